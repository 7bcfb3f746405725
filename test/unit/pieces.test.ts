import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareFingerprints } from '../../src/components/component.ts';
import { tolerantGlobals } from '../../src/components/postgres/pg-restore.ts';
import { COUNT_SCRIPT, parseTreeCount } from '../../src/docker/tree-helper.ts';
import { pickServiceContainer } from '../../src/docker/compose-services.ts';
import type { ContainerInfo } from '../../src/docker/types.ts';
import { archiveStamp, FORMAT_VERSION, parseManifest } from '../../src/core/manifest.ts';
import { ArchiveError, StackError } from '../../src/errors.ts';

test('tree counts read the two totals and the folder owner', () => {
  const out = 'owner 1000:1000 755\nentries       4\nbytes 105\n';
  assert.deepEqual(parseTreeCount(out), { entries: 4, bytes: 105, owner: '1000:1000', mode: '755' });
  assert.deepEqual(parseTreeCount('entries 0\n'), { entries: 0, bytes: 0 });
  assert.throws(() => parseTreeCount('garbage'), /no entry count/);
});

test('the helper counts a tree itself: two lines for 3,000 files, each hard-linked inode once, a failing find is a failure', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hossadm-count-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'sub'));
  for (let i = 0; i < 3000; i++) writeFileSync(join(dir, 'sub', `f${i}`), 'x'.repeat(i % 7));
  writeFileSync(join(dir, 'big'), Buffer.alloc(100_000));
  linkSync(join(dir, 'big'), join(dir, 'sub', 'big-again'));
  symlinkSync('big', join(dir, 'link'));
  const count = (...entries: string[]) => spawnSync('sh', ['-c', COUNT_SCRIPT, 'helper', dir, ...entries], { encoding: 'utf8' });
  const whole = count();
  assert.equal(whole.status, 0, whole.stderr);
  assert.equal(whole.stdout.trim().split('\n').length, 2, 'entries and bytes, not a line per file');
  let contents = 100_000;
  for (let i = 0; i < 3000; i++) contents += i % 7;
  // sub, its 3,000 files and the second link, big, link
  assert.deepEqual(parseTreeCount(whole.stdout), { entries: 3004, bytes: contents });
  assert.deepEqual(parseTreeCount(count('big', 'link').stdout), { entries: 2, bytes: 100_000 });
  assert.notEqual(count('missing').status, 0);
});

test('globals load tolerates roles that already exist, keeps every ALTER ROLE', () => {
  const sql = 'CREATE ROLE postgres;\nALTER ROLE postgres WITH SUPERUSER PASSWORD \'x\';\nCREATE ROLE "hoss core";\n';
  const out = tolerantGlobals(sql);
  assert.match(out, /DO \$hossadm\$ BEGIN CREATE ROLE postgres; EXCEPTION WHEN duplicate_object THEN NULL; END \$hossadm\$;/);
  assert.match(out, /CREATE ROLE "hoss core"; EXCEPTION/);
  assert.match(out, /^ALTER ROLE postgres WITH SUPERUSER PASSWORD 'x';$/m);
});

test('fingerprint comparison names every differing key', () => {
  const diff = compareFingerprints('postgres', { hoss_core: { 'public.a': 3, 'public.b': 1 } }, { hoss_core: { 'public.a': 4, 'public.c': 1 } });
  assert.deepEqual(diff.map((d) => [d.key, d.expected, d.actual]), [
    ['hoss_core.public.a', 3, 4],
    ['hoss_core.public.b', 1, undefined],
    ['hoss_core.public.c', undefined, 1],
  ]);
  assert.deepEqual(compareFingerprints('x', { g: { k: 1 } }, { g: { k: 1 } }), []);
});

const container = (over: Partial<ContainerInfo>): ContainerInfo => ({
  id: 'id', name: 'n', image: 'i', state: 'running', project: 'server', service: 'db', labels: {}, created: 0, ...over,
});

test('services are found by compose labels, v1 and v2 names alike', () => {
  const v1 = container({ id: 'a', name: 'server_db_1' });
  const v2 = container({ id: 'b', name: 'server-db-1', service: 'opensearch' });
  assert.equal(pickServiceContainer([v1, v2], 'server', 'db').id, 'a');
  assert.equal(pickServiceContainer([v1, v2], 'server', 'opensearch').id, 'b');
  assert.throws(() => pickServiceContainer([v1], 'server', 'ldap'), (e: unknown) => e instanceof StackError && /service "ldap" of compose project "server"/.test(e.message));
  const oneoff = container({ id: 'c', labels: { 'com.docker.compose.oneoff': 'True' } });
  assert.throws(() => pickServiceContainer([oneoff], 'server', 'db'), StackError);
});

test('manifest parsing refuses foreign, newer and malformed manifests', () => {
  const good = {
    formatVersion: FORMAT_VERSION, tool: { name: 'hossadm', version: '0.1.0' }, profile: 'hoss', createdAt: 'x', project: 'server',
    stackVersion: null, codec: 'zstd', consistency: { mode: 'cold', stopped: [], windowSeconds: 0 }, engines: {},
    components: { config: { kind: 'folder', versions: {}, details: {}, fingerprint: {}, live: false } },
    members: [{ name: 'config/tree.tar', component: 'config', size: 1, sha256: 'a'.repeat(64) }],
  };
  assert.equal(parseManifest(JSON.stringify(good)).project, 'server');
  // Format 1 named members without the instance folder and kept one engines table, which each record now gets.
  const v1 = { ...good, formatVersion: 1, engines: { opensearch: '2.19.1' }, components: { config: { details: {}, fingerprint: {}, live: false } }, members: [{ ...good.members[0], name: 'config.tar' }] };
  assert.deepEqual(parseManifest(JSON.stringify(v1)).components.config!.versions, { opensearch: '2.19.1' });
  assert.throws(() => parseManifest(JSON.stringify({ ...v1, formatVersion: 2 })), /member config\.tar outside its component's folder config\//);
  assert.throws(() => parseManifest(JSON.stringify({ ...good, members: [{ ...good.members[0], component: 'other' }] })), /of component other, which has no record/);
  assert.throws(() => parseManifest('{'), ArchiveError);
  assert.throws(() => parseManifest(JSON.stringify({ ...good, tool: { name: 'other' } })), /not written by hossadm/);
  assert.throws(() => parseManifest(JSON.stringify({ ...good, formatVersion: 99 })), /format 99 is newer/);
  assert.throws(() => parseManifest(JSON.stringify({ ...good, members: [{ name: 'x', size: 1, sha256: 'zz', component: 'c' }] })), /x has no valid sha256/);
  assert.throws(() => parseManifest(JSON.stringify({ ...good, members: [{ ...good.members[0], component: 7 }] })), /malformed member/);
});

test('archive stamps sort and carry no colons', () => {
  assert.equal(archiveStamp(new Date('2026-11-22T09:03:04.567Z')), '20261122T090304Z');
});

test('every error class carries its exit code and hint', async () => {
  const errors = await import('../../src/errors.ts');
  const cases: Array<[InstanceType<typeof errors.HossError>, number]> = [
    [new errors.UsageError('u'), 2], [new errors.ConfigError('c'), 3], [new errors.EngineError('e'), 4],
    [new errors.StackError('s'), 5], [new errors.PreflightError('p'), 6], [new errors.ArchiveError('a', { member: 'm' }), 7],
    [new errors.OperationError('o'), 8], [new errors.LockedError('l'), 9], [new errors.MismatchError('x'), 10],
    [new errors.DeclinedError('d'), 11], [new errors.InterruptedError('i'), 130],
  ];
  for (const [error, code] of cases) {
    assert.equal(error.exitCode, code, error.name);
    assert.ok(errors.exitCodeMeaning[error.exitCode], `${code} is documented`);
  }
  assert.equal(new errors.StackError('x', { hint: 'do y' }).hint, 'do y');
  assert.equal(errors.asHossError(new Error('boom')).exitCode, 1);
});

test('the backup plan names every component step and the window', async () => {
  const { loadProfile } = await import('../../src/config/profile.ts');
  const { stackConfigFromEnv } = await import('../../src/config/stack-config.ts');
  const { planBackup, archiveName } = await import('../../src/core/backup.ts');
  const config = stackConfigFromEnv(await loadProfile('hoss'), '/c', { POSTGRES_USER: 'u', POSTGRES_PASSWORD: 'p', POSTGRES_CORE_DB: 'a', POSTGRES_AUTH_DB: 'b' }, '/h');
  const cold = planBackup(config, { mode: 'cold', codec: 'zstd', dryRun: true }, config.components).join('\n');
  assert.match(cold, /config: copy \.env, traefik\.yaml/);
  assert.match(cold, /postgres: pg_dump --format=custom of a/);
  assert.match(cold, /opensearch: snapshot all indices with global state/);
  assert.match(cold, /volumes: copy volume server_rabbitmq-data/);
  assert.match(cold, /freeze per service: stop each writing service \(all but db, opensearch\) only while data it mounts/);
  assert.match(planBackup(config, { mode: 'cold', freeze: 'stack', codec: 'zstd', dryRun: true }, config.components).join('\n'), /freeze per stack: stop the writing services \(all but db, opensearch\) for the freeze phase only/);
  assert.doesNotMatch(cold, /\bp\b.*password/);
  assert.match(planBackup(config, { mode: 'hot', codec: 'gzip', dryRun: true }, config.components).join('\n'), /hot: keep every service running[\s\S]*\.tar\.gz/);
  assert.equal(archiveName(config.profile.archivePrefix, new Date('2026-01-02T03:04:05Z'), 'zstd'), 'hoss-backup-20260102T030405Z.tar.zst');
});

test("the engine's multiplexed log splits into stdout and stderr", async () => {
  const { demuxLog } = await import('../../src/docker/client.ts');
  const frame = (kind: number, text: string) => {
    const body = Buffer.from(text);
    const head = Buffer.alloc(8);
    head[0] = kind;
    head.writeUInt32BE(body.length, 4);
    return Buffer.concat([head, body]);
  };
  assert.deepEqual(demuxLog(Buffer.concat([frame(1, 'a\n'), frame(2, 'oops\n'), frame(1, 'b\n')])), { stdout: 'a\nb\n', stderr: 'oops\n' });
});

test('a snapshot counts only in state SUCCESS with no failed shard, whatever HTTP said', async () => {
  const { snapshotProblem } = await import('../../src/components/search/search-backup.ts');
  const base = { snapshot: 's', indices: ['a'] };
  assert.equal(snapshotProblem({ ...base, state: 'SUCCESS', shards: { total: 2, failed: 0, successful: 2 } }), undefined);
  const partial = snapshotProblem({ ...base, state: 'PARTIAL', shards: { total: 2, failed: 1, successful: 1 }, failures: [{ index: 'a', shard_id: 0, reason: 'IO' }] });
  assert.equal(partial?.exitCode, 8);
  assert.match(partial!.message, /ended PARTIAL with 1 failed of 2 shards/);
  assert.match(partial!.details!, /a\[0\]: IO/);
  assert.ok(snapshotProblem({ ...base, state: 'SUCCESS', shards: { total: 2, failed: 1, successful: 1 } }), 'SUCCESS with a failed shard is still a failure');
  assert.ok(snapshotProblem({ ...base, state: 'FAILED' }));
});
