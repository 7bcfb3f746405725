// Freezing per service on the fake engine: each writer is stopped only
// while data it mounts is copied, windows follow the containers' mounts,
// and every window's writers run again whatever happened inside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import type { BackupTask, FreezeUnit } from '../../src/components/component.ts';
import { runBackup } from '../../src/core/backup.ts';
import { describeFreeze, mountTouches, planFreeze } from '../../src/core/freeze-windows.ts';
import type { ContainerInfo, ContainerMount, HelperRun } from '../../src/docker/types.ts';
import { assertCleanEngine, readManifest } from '../support/engine-checks.ts';
import { hossStack, type ServiceDef } from '../support/fake-stack.ts';

const cold = { mode: 'cold', codec: 'zstd', dryRun: false } as const;

/** The services' stop and start events, in order. */
const cycles = (events: readonly string[]) => events.filter((e) => /^(stop|start) /.test(e));

test('per service: each writer stops only for its own volumes, one window at a time; the others and the dumps never wait', async (t) => {
  const stack = await hossStack(t);
  const result = await runBackup(await stack.backupDeps(), cold);
  assert.deepEqual(cycles(stack.docker.events), ['stop auth', 'start auth', 'stop ldap', 'start ldap', 'stop rabbitmq', 'start rabbitmq'], 'core mounts no volume: never stopped');
  const manifest = await readManifest(result.archive!);
  assert.equal(manifest.consistency.freeze, 'per-service');
  assert.deepEqual(manifest.consistency.windows?.map((w) => [w.services, w.copied]), [
    [['auth'], ['volume server_auth-secrets']],
    [['ldap'], ['volume server_ldap-vol0', 'volume server_ldap-vol1']],
    [['rabbitmq'], ['volume server_rabbitmq-data']],
  ]);
  // Downtime per service, one entry each, as before.
  assert.deepEqual(manifest.consistency.stopped.map((s) => s.service), ['auth', 'ldap', 'rabbitmq']);
  for (const s of manifest.consistency.stopped) assert.ok(typeof s.seconds === 'number' && s.container.includes(s.service), JSON.stringify(s));
  for (const w of manifest.consistency.windows!) assert.equal(typeof w.seconds, 'number');
  // Nothing writes the search engine here: its counts did not move across the snapshot's start, so the proof stays strict.
  for (const [id, record] of Object.entries(manifest.components)) assert.equal(record.live, false, id);
  assert.ok(stack.docker.states().every((s) => s.endsWith(':running')));
  await assertCleanEngine(stack);
});

test('per service: services sharing a volume form one window; a volume no running service mounts is copied outside any window', async (t) => {
  const stack = await hossStack(t, undefined, (services: ServiceDef[]) =>
    services.map((s) => (s.service === 'auth' ? { ...s, volumes: { ...s.volumes, '/ldap-config': 'ldap-vol1' } } : s)));
  // A container that does not run is no writer: its volume has no owner.
  await stack.docker.stopContainer([...stack.docker.containers.values()].find((c) => c.info.service === 'rabbitmq')!.info.id);
  stack.docker.events.length = 0;
  const result = await runBackup(await stack.backupDeps(), cold);
  const events = cycles(stack.docker.events);
  assert.deepEqual(events.slice(0, 2).sort(), ['stop auth', 'stop ldap']);
  assert.deepEqual(events.slice(2).sort(), ['start auth', 'start ldap']);
  assert.ok(!events.some((e) => e.endsWith(' rabbitmq')), 'rabbitmq was not running: nothing to stop');
  const manifest = await readManifest(result.archive!);
  assert.deepEqual(manifest.consistency.windows?.map((w) => [[...w.services].sort(), w.copied]), [
    [['auth', 'ldap'], ['volume server_auth-secrets', 'volume server_ldap-vol0', 'volume server_ldap-vol1']],
  ]);
  assert.ok(manifest.members.some((m) => m.name === 'volumes/rabbitmq-data.tar'), 'the unmounted volume is still saved');
  assert.deepEqual(manifest.consistency.stopped.map((s) => s.service).sort(), ['auth', 'ldap']);
  await assertCleanEngine(stack);
});

test('per service: a failure inside a window starts that window\'s writers again; later windows never stop theirs', async (t) => {
  const stack = await hossStack(t);
  const runHelper = stack.docker.runHelper.bind(stack.docker);
  let ldapStopped = false;
  stack.docker.onStateChange.push((c) => {
    if (c.info.service === 'ldap' && c.info.state !== 'running') ldapStopped = true;
  });
  stack.docker.runHelper = async (run: HelperRun) => {
    if (ldapStopped && run.purpose.includes('ldap-vol1')) throw new Error('simulated copy failure');
    return runHelper(run);
  };
  const deps = await stack.backupDeps();
  await assert.rejects(runBackup(deps, cold), /simulated copy failure/);
  assert.deepEqual(cycles(stack.docker.events), ['stop auth', 'start auth', 'stop ldap', 'start ldap']);
  assert.ok(stack.docker.states().every((s) => s.endsWith(':running')), stack.docker.states().join(', '));
  assert.deepEqual(await readdir(deps.config.backupsDir), [], 'no archive');
  assert.ok(!(await readdir(deps.config.backupRoot)).includes('.hossadm.lock'), 'lock released');
});

test('freeze stack keeps one window for every writer around the whole freeze phase', async (t) => {
  const stack = await hossStack(t);
  await runBackup(await stack.backupDeps(), { ...cold, freeze: 'stack' });
  const events = cycles(stack.docker.events);
  assert.deepEqual(events.slice(0, 4).map((e) => e.split(' ')[0]), ['stop', 'stop', 'stop', 'stop']);
  assert.deepEqual(events.slice(4).map((e) => e.split(' ')[0]), ['start', 'start', 'start', 'start']);
});

test('the dry run names the windows the running stack would get', async (t) => {
  const stack = await hossStack(t);
  const result = await runBackup(await stack.backupDeps(), { ...cold, dryRun: true });
  const plan = result.plan.join('\n');
  assert.match(plan, /with the writers running: postgres snapshots \(pg_export_snapshot\)/);
  assert.match(plan, /window: stop auth while volume server_auth-secrets, then start them again/);
  assert.match(plan, /window: stop ldap while volume server_ldap-vol0, volume server_ldap-vol1/);
  assert.deepEqual(cycles(stack.docker.events), [], 'a dry run stops nothing');
});

const writer = (service: string): ContainerInfo => ({ id: service, name: `p-${service}-1`, image: 'x', state: 'running', project: 'p', service, labels: {}, created: 0 });
const unit = (label: string, mounts: string[], ran: string[]): FreezeUnit => ({ label, mounts, run: async () => void ran.push(label) });
const task = (...units: FreezeUnit[]): BackupTask => ({ freezeUnits: () => units, finish: async () => ({ details: {}, fingerprint: {}, live: false }) });

test('the plan keeps the profile order: unmounted work runs before the windows of instances listed after it', async () => {
  const ran: string[] = [];
  const writers = [writer('app'), writer('worker'), writer('idle')];
  const mounts = new Map<string, ContainerMount[]>([
    ['app', [{ type: 'volume', name: 'p_files', source: '/v/p_files' }, { type: 'bind', source: '/srv/stack/uploads', }]],
    ['worker', [{ type: 'bind', source: '/srv/stack' }]],
    ['idle', []],
  ]);
  const legacy: BackupTask = { freeze: async () => void ran.push('legacy'), finish: async () => ({ details: {}, fingerprint: {}, live: false }) };
  const tasks = [
    task(unit('dump', [], ran)),
    task(unit('files', ['p_files'], ran)),
    task(unit('snapshot', [], ran)),
    task(unit('uploads', ['/srv/stack/uploads/2026'], ran), unit('orphan', ['p_orphan'], ran)),
    legacy,
  ];
  const steps = await planFreeze(tasks, ['a', 'b', 'c', 'd', 'e'], writers, mounts, 'per-service');
  assert.deepEqual(describeFreeze(steps), [
    'with the writers running: dump',
    'with the writers running: snapshot',
    'with the writers running: orphan',
    // The bind of a parent folder (worker) and of the folder itself (app) both own it; app's volume joins them, and the
    // task without units stops every writer, so all share one window where its last unit stands.
    'window: stop app, worker, idle while files, uploads, e, then start them again',
  ]);
  for (const step of steps) for (const u of step.units) await u.run();
  assert.deepEqual(ran, ['dump', 'snapshot', 'orphan', 'files', 'uploads', 'legacy']);
});

test('a host path is owned by a bind of it, of a folder around it or of a folder inside it; a volume by its name only', () => {
  const bind = (source: string): ContainerMount => ({ type: 'bind', source });
  assert.ok(mountTouches('/srv/data', bind('/srv/data')));
  assert.ok(mountTouches('/srv/data', bind('/srv')));
  assert.ok(mountTouches('/srv/data', bind('/srv/data/files/')));
  assert.ok(!mountTouches('/srv/data', bind('/srv/database')));
  assert.ok(!mountTouches('/srv/data', { type: 'volume', name: 'x', source: '/srv/data' }));
  assert.ok(mountTouches('p_x', { type: 'volume', name: 'p_x', source: '/var/lib/docker/volumes/p_x/_data' }));
  assert.ok(!mountTouches('p_x', bind('/p_x')));
});
