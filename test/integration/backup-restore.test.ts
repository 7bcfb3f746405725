// hossadm backup and restore on the real engine and the reference stack:
// the archive holds every component and verifies; a fresh-host round trip
// and an in-place restore over a modified stack both give back the saved
// fingerprint; a volume with the tricky tree of RELIABILITY item 6 survives;
// failures leave no archive and the services running; damaged archives and
// version skew are refused before anything changes.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFile, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { loadContext, type StackContext } from '../../compose/driver/context.ts';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { readCoreLedger, setCoreWriting } from '../../compose/driver/core-switch.ts';
import { searchClient } from '../../compose/driver/services/opensearch.ts';
import { withDatabase } from '../../compose/driver/services/postgres.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { updateEnvText } from '../../src/config/env-file.ts';
import { HOSSADM, hossadm, hossadmOk } from './hossadm-support.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('roundtrip');
const docker = new EngineClient();
const FIXTURE = 'fixture-vol';
const fixtureVolume = `${stack.project}_${FIXTURE}`;
let ctx: StackContext;
let saved: string;
let archive: string;
let fixtureListing: string;

const fingerprint = () => stackOk(['fingerprint'], stack.env);
const backupsDir = () => join(stack.hossDir, 'backup', 'backups');

// Every tricky kind of entry of RELIABILITY.md item 6.
const TRICKY_TREE = `
set -e
cd /v
mkdir -p empty/inner "dir ü" deep/a/b/c
printf 'secret' > key.pem; chown 1001:1001 key.pem; chmod 600 key.pem
printf 'seventy' > f70; chown 70:70 f70; chmod 700 f70
printf 'nine' > f999; chown 999:999 f999; chmod 775 f999
printf 'thousand' > f1000; chown 1000:1000 f1000; chmod 0644 f1000
printf 'root' > f0
printf 'suid' > suid; chown 1000:1000 suid; chmod 4755 suid
ln -s /etc/passwd absolute-link; ln -s key.pem relative-link; ln -s nowhere dangling-link
ln key.pem hard-link
dd if=/dev/zero of=sparse bs=1 count=0 seek=33554432 2>/dev/null
printf 'x' >> sparse
printf 'long' > "dir ü/$(printf 'n%.0s' $(seq 1 200))"
printf 'ü' > "dir ü/naïve-名前.txt"
touch -d '2021-03-04 05:06:07' f70 key.pem sparse
touch -h -d '2020-02-03 04:05:06' relative-link
touch -d '2019-01-02 03:04:05' empty deep/a/b "dir ü"
`;
// Type, owner, mode, size, content hash, link target and mtime of every entry.
const LISTING = `
cd /v
find . | sort | while IFS= read -r f; do
  if [ -L "$f" ]; then echo "$f link $(stat -c '%u:%g %Y' "$f") -> $(readlink "$f")";
  elif [ -d "$f" ]; then echo "$f dir $(stat -c '%u:%g %a %Y' "$f")";
  else echo "$f file $(stat -c '%u:%g %a %s %h %Y' "$f") $(sha256sum < "$f" | cut -c1-16)"; fi
done
`;

async function listFixture(): Promise<string> {
  return runHelperScript({ script: LISTING, mounts: [{ source: fixtureVolume, target: '/v', readOnly: true }], purpose: 'test list fixture volume' });
}

async function writersRunning(): Promise<string[]> {
  const containers = await projectContainers(docker, stack.project);
  return containers.filter((c) => ['core', 'ldap', 'rabbitmq', 'auth'].includes(c.service)).map((c) => `${c.service}:${c.state}`).sort();
}

async function archivesPresent(): Promise<string[]> {
  return (await readdir(backupsDir()).catch(() => [] as string[])).sort();
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  ctx = await loadContext(stack.hossDir);
  // An extra volume with the tricky tree, named in .env like any stack volume.
  await docker.createVolume(fixtureVolume, { 'com.docker.compose.project': stack.project, 'com.docker.compose.volume': FIXTURE });
  await runHelperScript({ script: TRICKY_TREE, mounts: [{ source: fixtureVolume, target: '/v' }], purpose: 'test fill fixture volume' });
  fixtureListing = await listFixture();
  const envPath = join(stack.hossDir, '.env');
  await writeFile(envPath, updateEnvText(await readFile(envPath, 'utf8'), { HOSSADM_VOLUMES: `auth-secrets,ldap-vol0,ldap-vol1,rabbitmq-data,${FIXTURE}` }));
});

after(async () => {
  await runStack(['reset'], stack.env);
  await docker.removeVolume(fixtureVolume).catch(() => undefined);
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('backup writes one archive holding every component, each member matching its checksum', async () => {
  saved = await fingerprint();
  const run = await hossadmOk(['backup', '--yes', '--json'], stack.env);
  const result = JSON.parse(run.stdout) as {
    archive: string;
    members: { name: string }[];
    consistency: { mode: string; freeze: string; stopped: { service: string }[]; windows: { services: string[]; copied: string[] }[] };
  };
  archive = result.archive;
  const names = result.members.map((m) => m.name).sort();
  assert.deepEqual(names, [
    'config/tree.tar', 'opensearch/repository.tar', 'postgres/globals.sql', 'postgres/hoss_auth.dump', 'postgres/hoss_core.dump', 'stack.env',
    'volumes/auth-secrets.tar', `volumes/${FIXTURE}.tar`, 'volumes/ldap-vol0.tar', 'volumes/ldap-vol1.tar', 'volumes/rabbitmq-data.tar',
  ]);
  assert.equal(result.consistency.mode, 'cold');
  // Per service: each writer only for its own volumes; core mounts none and keeps running; the fixture volume has no writer.
  assert.equal(result.consistency.freeze, 'per-service');
  assert.deepEqual(result.consistency.stopped.map((s) => s.service).sort(), ['auth', 'ldap', 'rabbitmq']);
  assert.deepEqual(result.consistency.windows.map((w) => [w.services, w.copied.map((c) => c.replace(/^volume \S+_/, ''))]), [
    [['auth'], ['auth-secrets']],
    [['ldap'], ['ldap-vol0', 'ldap-vol1']],
    [['rabbitmq'], ['rabbitmq-data']],
  ]);
  assert.equal((await stat(archive)).mode & 0o777, 0o600);
  const verified = await verifyArchive(archive);
  assert.equal(verified.members.length, names.length);
  // Standard tools read it too: an operator is never locked out of their data.
  const listed = execFileSync('tar', ['--zstd', '-tf', archive], { encoding: 'utf8' }).trim().split('\n').sort();
  assert.deepEqual(listed, ['manifest.json', ...names].sort());
  assert.deepEqual(await writersRunning(), ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running']);
  assert.equal(await fingerprint(), saved, 'a backup must not change the stack');
  assert.doesNotMatch(run.stderr + run.stdout, new RegExp(ctx.env.POSTGRES_PASSWORD!), 'no secret in output');
});

test('a pg_dump failure fails the backup with its stderr, leaves no archive and restarts the writers', async () => {
  const before = await archivesPresent();
  const db = (await projectContainers(docker, stack.project)).find((c) => c.service === 'db')!;
  const wrap = 'set -e; d=$(dirname "$(command -v pg_dump)"); mv "$d/pg_dump" "$d/pg_dump.real"; printf \'#!/bin/sh\\ncase "$*" in *--version*|-V) exec "$0.real" "$@";; esac\\necho "pg_dump: error: simulated failure" >&2\\nexit 1\\n\' > "$d/pg_dump"; chmod 755 "$d/pg_dump"';
  assert.equal((await docker.exec(db.id, ['sh', '-c', wrap])).exitCode, 0);
  try {
    const run = await hossadm(['backup', '--yes'], stack.env);
    assert.equal(run.code, 8, run.stderr);
    assert.match(run.stderr, /pg_dump of "hoss_core" failed with exit code 1/);
    assert.match(run.stderr, /simulated failure/);
  } finally {
    await docker.exec(db.id, ['sh', '-c', 'd=$(dirname "$(command -v pg_dump)"); mv "$d/pg_dump.real" "$d/pg_dump"']);
  }
  assert.deepEqual(await archivesPresent(), before);
  assert.deepEqual(await writersRunning(), ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running']);
});

test('an index whose snapshot cannot succeed (red, unassigned primary) stops the backup before anything stops', async () => {
  const before = await archivesPresent();
  const search = await searchClient(ctx);
  // A primary that can never be allocated: the snapshot cannot succeed.
  await search.indices.create({ index: 'unassignable', body: { settings: { number_of_replicas: 0, 'index.routing.allocation.require._name': 'no-such-node' } } });
  try {
    const run = await hossadm(['backup', '--yes'], stack.env);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /OpenSearch cluster is red: .*unassignable/);
    assert.doesNotMatch(run.stderr, /stop writers/, 'refused before any service stopped');
  } finally {
    await search.indices.delete({ index: 'unassignable' });
    await search.close();
  }
  assert.deepEqual(await archivesPresent(), before);
  assert.deepEqual(await writersRunning(), ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running']);
});

test('Ctrl-C during the volume copy: exit 130, no archive, no staging, writers running again', async () => {
  const before = await archivesPresent();
  const child = spawn(process.execPath, [HOSSADM, 'backup', '--yes'], { env: { ...process.env, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (/… volume .*ldap-vol0/.test(stderr)) resolve();
    });
  });
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /backup interrupted: no archive was written/);
  assert.deepEqual(await archivesPresent(), before);
  await assert.rejects(stat(join(stack.hossDir, 'backup', '.current')), 'staging removed');
  assert.deepEqual(await writersRunning(), ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running']);
  // A backup helper still present that mounts one of this stack's volumes is this run's.
  const helpers = await docker.listContainers({ labels: { 'org.hossadm.helper': true } });
  const ours: string[] = [];
  for (const helper of helpers.filter((h) => /^backup /.test(h.labels['org.hossadm.helper'] ?? ''))) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    if (info?.Mounts?.some((m) => m.Name?.startsWith(`${stack.project}_`))) ours.push(helper.labels['org.hossadm.helper']!);
  }
  assert.deepEqual(ours, [], 'no backup helper left behind');
});

test('a missing container fails the backup naming the service', async () => {
  const before = await archivesPresent();
  const db = (await projectContainers(docker, stack.project)).find((c) => c.service === 'db')!;
  await docker.removeContainer(db.id);
  try {
    const run = await hossadm(['backup', '--yes'], stack.env);
    assert.equal(run.code, 5, run.stderr);
    assert.match(run.stderr, /service "db" of compose project "[a-z0-9]+" has no container/);
  } finally {
    await stackOk(['up'], stack.env);
  }
  assert.deepEqual(await archivesPresent(), before);
});

test('damaged, foreign and version-skewed archives are refused before anything changes', async () => {
  const work = join(dirname(stack.hossDir), 'bad');
  execFileSync('mkdir', ['-p', work]);
  const flipped = join(work, 'flipped.tar.zst');
  await copyFile(archive, flipped);
  const size = (await stat(flipped)).size;
  const bytes = await readFile(flipped);
  const at = Math.floor(size * 0.6);
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(flipped, bytes);
  const truncated = join(work, 'truncated.tar.zst');
  await copyFile(archive, truncated);
  await truncate(truncated, Math.floor(size / 2));
  const foreign = join(work, 'foreign.tar.zst');
  execFileSync('sh', ['-c', `tar -C /etc -cf - hostname | zstd -q > ${foreign}`]);
  for (const bad of [flipped, truncated, foreign]) {
    const run = await hossadm(['restore', '--yes', bad], stack.env);
    assert.equal(run.code, 7, `${bad}: ${run.stderr}`);
  }
  const envPath = join(stack.hossDir, '.env');
  const original = await readFile(envPath, 'utf8');
  await writeFile(envPath, updateEnvText(original, { HOSS_VERSION: '9.9.9' }));
  try {
    const run = await hossadm(['restore', '--yes', archive], stack.env);
    assert.equal(run.code, 6, run.stderr);
    assert.match(run.stderr, /stack version 0\.2\.13 but the running stack is 9\.9\.9/);
  } finally {
    await writeFile(envPath, original);
  }
  const plan = await hossadmOk(['restore', '--dry-run', archive], stack.env);
  assert.match(plan.stdout, /Restore plan .*nothing was done/);
  assert.match(plan.stdout, /in place, over the running stack/);
  assert.match(plan.stdout, /volume [a-z0-9]+_auth-secrets: emptied and refilled/);
  const backupPlan = await hossadmOk(['backup', '--dry-run'], stack.env);
  assert.match(backupPlan.stdout, /Backup plan \(nothing was done\)/);
  assert.match(backupPlan.stdout, /pg_dump --format=custom of hoss_core/);
  assert.deepEqual(changedKeys(saved, await fingerprint()), [], 'refused restores and dry runs must change nothing');
});

test('--hot with the core service writing yields a consistent dump, and says it was copied live', async () => {
  const seededTotal = (await readCoreLedger(ctx)).total;
  await setCoreWriting(ctx, true);
  let hot: { archive: string; consistency: { mode: string; stopped: unknown[] } };
  try {
    await new Promise((r) => setTimeout(r, 2000));
    hot = JSON.parse((await hossadmOk(['backup', '--yes', '--hot', '--json'], stack.env)).stdout);
  } finally {
    await setCoreWriting(ctx, false);
  }
  assert.equal(hot.consistency.mode, 'hot');
  assert.deepEqual(hot.consistency.stopped, [], 'nothing is stopped in a hot backup');
  // Load that dump back: the invariant the writer keeps must hold in it, and the
  // writes that happened before the snapshot must be in it.
  await hossadmOk(['restore', '--yes', hot.archive], stack.env);
  await stackOk(['up'], stack.env);
  const restored = await readCoreLedger(ctx);
  assert.equal(restored.total, seededTotal, 'no transfer torn in half');
  assert.ok(restored.transfers > 0, 'the writes made before the snapshot are in the dump');
});

test('restore in place over a modified stack brings back the saved state with no leftovers', async () => {
  await withDatabase(ctx, 'hoss_core', async (client) => {
    await client.query('insert into objects select id + 1000000000, dataset_id, key, size, etag, metadata, note, modified_at from objects order by id limit 3');
    await client.query('create table added_after_backup (id int)');
  });
  const search = await searchClient(ctx);
  const index = (await search.cat.indices({ format: 'json' })).body.map((i) => i.index ?? '').filter((i) => i && !i.startsWith('.')).sort()[0];
  await search.deleteByQuery({ index: index!, body: { query: { match_all: {} } }, refresh: true, max_docs: 10 });
  await search.indices.create({ index: 'created-after-backup' });
  await search.close();
  await runHelperScript({ script: 'echo changed >> /s/private.pem; echo stale > /s/stale-file', mounts: [{ source: `${stack.project}_auth-secrets`, target: '/s' }], purpose: 'test modify auth-secrets' });
  assert.notDeepEqual(changedKeys(saved, await fingerprint()), []);

  const run = await hossadmOk(['restore', '--yes', archive], stack.env);
  assert.match(run.stdout, /in place/);
  await stackOk(['up'], stack.env);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
  assert.deepEqual(await writersRunning(), ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running']);
});

test('fresh-host round trip: reset everything, restore, same fingerprint, core works, tricky tree intact', async () => {
  await stackOk(['reset'], stack.env);
  await docker.removeVolume(fixtureVolume);
  const run = await hossadmOk(['restore', '--yes', archive], stack.env);
  assert.match(run.stdout, /fresh host/);
  await stackOk(['up'], stack.env);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
  assert.equal(await listFixture(), fixtureListing);
  // The GNU tar helper put the holes back as holes: LDAP's 1 GiB map and the fixture's 32 MiB file take a few blocks.
  for (const [volume, file, size] of [[fixtureVolume, 'sparse', 33554433], [`${stack.project}_ldap-vol0`, 'data.mdb', 1073741824]] as const) {
    const [apparent, blocks] = (await runHelperScript({ script: `stat -c '%s %b' /v/${file}`, mounts: [{ source: volume, target: '/v', readOnly: true }], purpose: 'test sparse file' })).trim().split(' ').map(Number);
    assert.equal(apparent, size, file);
    assert.ok(blocks! * 512 < 16 * 1024 * 1024, `${file}: ${blocks! * 512} bytes on disk for ${apparent}`);
  }
  // The stand-in core answers its health check against the restored database.
  const containers = await projectContainers(docker, stack.project);
  const core = containers.find((c) => c.service === 'core')!;
  const health = await docker.exec(core.id, ['sh', '/opt/hoss-core/health.sh']);
  assert.equal(health.exitCode, 0, health.stderr);
  const initScript = join(stack.hossDir, 'core', 'db-init-scripts', 'zz-hossadm-restore.sh');
  await assert.rejects(stat(initScript), 'the one-shot init script is removed after a verified restore');
});
