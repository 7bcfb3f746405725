// hossadm with the cybersift profile on the real engine and the CyberSift
// reference stack (Elasticsearch 7.10.2, Redis 7.0 with AOF and a password,
// the models and NiFi flow folders, the stand-in): a fresh-host round trip,
// an in-place round trip over keys written after the backup (none survives,
// also not through the append-only file), a hot backup while the stand-in
// writes whose RDB is one point in time, and the failures that must stop a
// run before anything changes. One stack serves the whole file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import parsePrometheus from 'parse-prometheus-text-format';
import { asText } from '../../src/components/redis/resp.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { loadCyberSiftContext, readCyberSiftConsistency, setCyberSiftWriting, withRedis, type CyberSiftContext } from '../../compose/driver/stacks/cybersift.ts';
import { layoutOf } from '../integration/archive-mutations.ts';
import { rewriteArchive } from '../integration/archive-rewrite.ts';
import { hossadm, hossadmOk } from '../integration/hossadm-support.ts';
import { changedKeys, runStack, stackOk } from '../integration/stack-support.ts';
import { startReceiver } from '../support/webhook-receiver.ts';
import { ageDecrypt, ageKeygen } from '../support/age-cli.ts';

const root = await mkdtemp(join(tmpdir(), 'hossadm-cybersift-'));
const dir = join(root, 'cybersift');
const project = `tcybersift${process.pid}`;
const env = { COMPOSE_PROJECT_NAME: project, CYBERSIFT_DIR: dir };
const docker = new EngineClient();
const RUNNING = ['cybersift:running', 'elasticsearch:running', 'redis:running'];
let ctx: CyberSiftContext;
let seeded: string;
let archive: string;
let encrypted: string;

const stack = (verb: string) => stackOk(['--stack', 'cybersift', verb, '--dir', dir], env);
const tool = (args: string[]) => hossadm(['--profile', 'cybersift', '--config-dir', dir, ...args], env);
const toolOk = (args: string[]) => hossadmOk(['--profile', 'cybersift', '--config-dir', dir, ...args], env);
const fingerprint = () => stack('fingerprint');
/** The path part of a webhook URL, a secret like a healthchecks.io check's UUID. */
const SECRET = 'f00d-ca11-5ecret';
const metricsFile = join(root, 'hossadm.prom');

/** This stack's backup series of one gauge in the metrics file, read by a Prometheus text-format parser. */
async function backupMetric(name: string): Promise<string | undefined> {
  const families = parsePrometheus(await readFile(metricsFile, 'utf8'));
  return families.find((f) => f.name === name)?.metrics.find((m) => m.labels?.stack === project && m.labels.command === 'backup')?.value;
}

let keys: { dir: string; identity: string; other: string; recipients: string } | undefined;

/** Two key pairs made once by age-keygen: the one the backup is encrypted to, and another. */
async function ageKeys(): Promise<{ dir: string; identity: string; other: string; recipients: string }> {
  if (keys) return keys;
  const keyDir = join(root, 'age');
  await mkdir(keyDir);
  const [backup, other] = [await ageKeygen(keyDir, 'backup'), await ageKeygen(keyDir, 'other')];
  const recipients = join(keyDir, 'recipients.txt');
  await writeFile(recipients, `# who can read the backups\n${backup.recipient}\n`);
  keys = { dir: keyDir, identity: backup.identityFile, other: other.identityFile, recipients };
  return keys;
}

async function containerStates(): Promise<string[]> {
  return (await projectContainers(docker, project)).map((c) => `${c.service}:${c.state}`).sort();
}

async function manifestOf(path: string): Promise<{ consistency: { mode: string }; components: Record<string, { live: boolean; versions: Record<string, string> }> }> {
  return JSON.parse(execFileSync('sh', ['-c', 'zstd -dc "$1" | tar -xOf - manifest.json', 'sh', path]).toString());
}

before(async () => {
  await stack('up');
  await stack('seed');
  ctx = await loadCyberSiftContext(dir);
  seeded = await fingerprint();
});

after(async () => {
  await runStack(['--stack', 'cybersift', 'reset', '--dir', dir], env);
  await rm(root, { recursive: true, force: true });
});

test('backup saves config, the Redis RDB, the index and both folders, stopping only the stand-in', async () => {
  const run = await toolOk(['backup', '--yes', '--json']);
  const result = JSON.parse(run.stdout) as { archive: string; members: { name: string }[]; consistency: { stopped: { service: string }[] } };
  archive = result.archive;
  assert.match(archive, /\/cybersift-backup-\d{8}T\d{6}Z\.tar\.zst$/);
  assert.deepEqual(result.members.map((m) => m.name).sort(), ['cache/dump.rdb', 'config/tree.tar', 'flows/tree.tar', 'index/repository.tar', 'models/tree.tar', 'stack.env']);
  assert.deepEqual(result.consistency.stopped.map((s) => s.service), ['cybersift']);
  assert.deepEqual(await containerStates(), RUNNING);
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(ctx.env.REDIS_PASSWORD!), 'no password in the output');
  const leftovers = execFileSync('sh', ['-c', 'ls -A "$1"', 'sh', ctx.redisData]).toString().split('\n').filter((n) => n.startsWith('hossadm-'));
  assert.deepEqual(leftovers, [], 'the RDB copy is removed from the data folder');
  assert.deepEqual(changedKeys(seeded, await fingerprint()), [], 'a backup changes nothing');
});

test('fresh host: reset, restore, and every key, event, model and flow file is back, with AOF on', async () => {
  await stack('reset');
  const run = await toolOk(['restore', '--yes', archive]);
  assert.match(run.stdout, /\(fresh host\)/);
  assert.match(run.stdout, /content matches the manifest/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
});

test('in place: keys written after the backup are gone, also from the append-only file Redis restarts from', async () => {
  await withRedis(ctx, async (redis) => {
    await redis.call('SET', 'written-after-backup', 'stale');
    await redis.call('DEL', 'cybersift:tags', 'cybersift:alerts');
    await redis.call('SELECT', 7);
    await redis.call('HSET', 'stale-db', 'f', 'v');
  });
  assert.ok(changedKeys(seeded, await fingerprint()).length > 0, 'Redis really changed');
  const run = await toolOk(['restore', '--yes', archive]);
  assert.match(run.stdout, /\(in place\)/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.deepEqual(await containerStates(), RUNNING);
  // A restart loads what is on disk: the rebuilt AOF must hold the archive, not the old writes.
  const redisContainer = (await projectContainers(docker, project)).find((c) => c.service === 'redis')!;
  await docker.stopContainer(redisContainer.id, 30);
  await docker.startContainer(redisContainer.id);
  const fromDisk = await fingerprint();
  assert.deepEqual(changedKeys(seeded, fromDisk), [], 'the same after a restart');
  assert.equal((JSON.parse(fromDisk) as { redis: { appendonly: string } }).redis.appendonly, 'yes');
});

test('a hot backup while the stand-in writes: the restored Redis is one point in time and the manifest says live', async () => {
  // The same run prunes after itself (an older archive goes, the two newest stay) and reports to a webhook and a metrics file.
  const older = join(dirname(archive), 'cybersift-backup-20200101T000000Z.tar.zst');
  await copyFile(archive, older);
  const hook = await startReceiver();
  await setCyberSiftWriting(ctx, true);
  let hot: string;
  let pruned: string[] = [];
  try {
    await new Promise((r) => setTimeout(r, 3000));
    const reports = ['--notify', `${hook.origin}/${SECRET}`, '--notify-success', '--metrics-file', metricsFile];
    const run = await toolOk(['backup', '--yes', '--hot', '--json', '--then-prune', '--keep-last', '2', ...reports]);
    const result = JSON.parse(run.stdout) as { archive: string; pruned: { removed: { name: string }[] } };
    hot = result.archive;
    pruned = result.pruned.removed.map((a) => a.name);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(SECRET), 'the webhook URL is not shown');
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await setCyberSiftWriting(ctx, false);
    await hook.close();
  }
  assert.deepEqual(pruned, [basename(older)]);
  await assert.rejects(stat(older), 'pruned');
  await stat(archive);
  assert.deepEqual(
    hook.pings.map((p) => `${p.path} ${p.body.event}`),
    [`/${SECRET}/start start`, `/${SECRET} success`],
  );
  const bytes = (await stat(hot)).size;
  assert.equal(hook.pings[1]!.body.archive, basename(hot));
  assert.equal(hook.pings[1]!.body.bytes, bytes);
  assert.equal(await backupMetric('hossadm_last_exit_code'), '0');
  assert.equal(await backupMetric('hossadm_archive_bytes'), String(bytes));
  assert.equal(await backupMetric('hossadm_archive_members'), '6');
  assert.equal(await backupMetric('hossadm_downtime_seconds'), '0', 'a hot backup stops nothing');
  const manifest = await manifestOf(hot);
  assert.equal(manifest.consistency.mode, 'hot');
  assert.equal(manifest.components.cache!.live, true);
  const written = await readCyberSiftConsistency(ctx);
  const restored = await toolOk(['restore', '--yes', hot]);
  assert.match(restored.stdout, /\(in place\)/);
  const point = await readCyberSiftConsistency(ctx);
  // Each round is one MULTI/EXEC (counter, list, hash): a point-in-time RDB has them agree.
  assert.ok(point.counter > 0, JSON.stringify(point));
  assert.equal(point.ticks, point.counter, JSON.stringify(point));
  assert.ok(point.counter <= written.counter, `restored ${point.counter} rounds, ${written.counter} were written by the end`);
});

test('a wrong Redis password is refused at pre-flight by backup and restore, before anything changes', async () => {
  await toolOk(['restore', '--yes', archive]);
  const now = await fingerprint();
  const envPath = join(dir, '.env');
  const text = await readFile(envPath, 'utf8');
  await writeFile(envPath, text.replace(`REDIS_PASSWORD=${ctx.env.REDIS_PASSWORD}`, 'REDIS_PASSWORD=not-the-redis-password'));
  const hook = await startReceiver();
  const lastSuccess = await backupMetric('hossadm_last_success_timestamp_seconds');
  try {
    const reports = ['--notify', `${hook.origin}/${SECRET}`, '--metrics-file', metricsFile];
    for (const args of [['backup', '--yes', ...reports], ['restore', '--yes', archive]]) {
      const run = await tool(args);
      assert.equal(run.code, 6, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, /Redis of redis refused the password of cache \(WRONGPASS\)/);
      assert.equal(run.stderr.trim().split('\n').filter((l) => l.startsWith('hossadm:')).length, 1, 'one line');
      assert.doesNotMatch(run.stdout + run.stderr, /not-the-redis-password/);
    }
  } finally {
    await writeFile(envPath, text, { mode: 0o600 });
    await hook.close();
  }
  // The failed backup: one failure ping after its start, with the exit code and the one line; the metrics keep the last success.
  assert.deepEqual(
    hook.pings.map((p) => `${p.path} ${p.body.event} ${p.body.exitCode ?? ''}`),
    [`/${SECRET}/start start `, `/${SECRET}/fail fail 6`],
  );
  assert.match(String(hook.pings[1]!.body.error), /refused the password of cache \(WRONGPASS\)/);
  assert.doesNotMatch(JSON.stringify(hook.pings), /not-the-redis-password/);
  assert.equal(await backupMetric('hossadm_last_exit_code'), '6');
  assert.ok(lastSuccess && lastSuccess !== '0');
  assert.equal(await backupMetric('hossadm_last_success_timestamp_seconds'), lastSuccess);
  assert.deepEqual(await containerStates(), RUNNING);
  assert.deepEqual(changedKeys(now, await fingerprint()), [], 'refused runs change nothing');
});

test('a Redis major skew and a damaged Redis member are refused before anything changes', async () => {
  const now = await fingerprint();
  const skewed = join(root, 'skewed.tar.zst');
  await rewriteArchive(archive, skewed, 'zstd', (m) => {
    (m.components as Record<string, { versions: Record<string, string> }>).cache!.versions.redis = '6.2.14';
  });
  const skew = await tool(['restore', '--yes', skewed]);
  assert.equal(skew.code, 6, skew.stderr);
  assert.match(skew.stderr, /the archive's RDB comes from Redis 6\.2\.14, the running redis is Redis 7\.0\./);

  const bytes = await readFile(archive);
  const span = layoutOf(bytes).members.find((m) => m.name === 'cache/dump.rdb')!;
  const damaged = Buffer.from(bytes);
  const at = span.dataStart + Math.floor((span.end - span.dataStart) / 2);
  damaged[at] = damaged[at]! ^ 0x5a;
  const path = join(root, 'damaged-rdb.tar.zst');
  await writeFile(path, damaged);
  const run = await tool(['restore', '--yes', path]);
  assert.equal(run.code, 7, run.stderr);
  assert.match(run.stderr, /cache\/dump\.rdb/);

  assert.deepEqual(await containerStates(), RUNNING);
  assert.deepEqual(changedKeys(now, await fingerprint()), [], 'refused runs change nothing');
  await withRedis(ctx, async (redis) => assert.equal(asText((await redis.call('CONFIG', 'GET', 'appendonly') as Buffer[])[1]!), 'yes'));
});

test('an encrypted backup holds no plaintext, the age CLI opens it into an archive verify accepts, and restore with the identity brings the stack back', async () => {
  const before = await fingerprint();
  const keys = await ageKeys();
  const run = await toolOk(['backup', '--yes', '--json', '--recipients', keys.recipients]);
  encrypted = (JSON.parse(run.stdout) as { archive: string }).archive;
  assert.match(encrypted, /\/cybersift-backup-\d{8}T\d{6}Z\.tar\.zst\.age$/);
  assert.match(run.stderr, /members checked while encrypted, checksums match; ciphertext re-read, sha256 matches/);
  const bytes = await readFile(encrypted);
  assert.equal(bytes.subarray(0, 22).toString(), 'age-encryption.org/v1\n');
  for (const plaintext of ['manifest.json', 'stack.env', 'dump.rdb', 'repository.tar', 'cybersift', 'redis', 'elasticsearch', 'models', 'flows', project]) {
    assert.equal(bytes.includes(plaintext), false, `${plaintext} is readable in the encrypted archive`);
  }
  assert.equal(bytes.includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), false, 'no zstd frame is visible');

  // Without the key, list and check know the name, time and size, and say it is encrypted.
  const listed = JSON.parse((await toolOk(['list', '--json'])).stdout) as { name: string; encrypted: boolean; problem: string | null; bytes: number }[];
  assert.deepEqual(listed[0], { ...listed[0], name: basename(encrypted), encrypted: true, problem: null, bytes: bytes.length });
  assert.match((await toolOk(['check', '--max-age', '1h'])).stdout, /^HOSSADM OK/);

  // The reference implementation decrypts it into a plain archive hossadm verifies.
  await copyFile(encrypted, join(keys.dir, 'backup.tar.zst.age'));
  await ageDecrypt(keys.dir, 'backup.key', 'backup.tar.zst.age', 'backup.tar.zst');
  assert.match((await toolOk(['verify', join(keys.dir, 'backup.tar.zst')])).stdout, /is intact: 6 members/);
  assert.match((await toolOk(['verify', '--identity', keys.identity, encrypted])).stdout, /is intact: 6 members/);

  await withRedis(ctx, async (redis) => {
    await redis.call('SET', 'written-after-encrypted-backup', 'stale');
  });
  assert.ok(changedKeys(before, await fingerprint()).length > 0, 'Redis really changed');
  const restored = await hossadmOk(['--profile', 'cybersift', '--config-dir', dir, 'restore', '--yes', encrypted], { ...env, HOSSADM_AGE_IDENTITY: keys.identity });
  assert.match(restored.stdout, /\(in place\)/);
  assert.deepEqual(changedKeys(before, await fingerprint()), []);
  assert.doesNotMatch(run.stdout + run.stderr + restored.stdout + restored.stderr, /AGE-SECRET-KEY/);
});

test('an encrypted archive is refused with nothing changed: no identity, a wrong one, one others may read, a flipped byte', async () => {
  const now = await fingerprint();
  const keys = await ageKeys();
  const bytes = await readFile(encrypted);
  const damaged = Buffer.from(bytes);
  damaged[Math.floor(bytes.length / 2)]! ^= 0x01;
  const flipped = join(root, 'flipped.tar.zst.age');
  await writeFile(flipped, damaged);
  const loose = join(keys.dir, 'loose.key');
  await copyFile(keys.identity, loose);
  await chmod(loose, 0o644);
  const cases: [string[], number, RegExp][] = [
    [['restore', '--yes', encrypted], 3, /is encrypted with age and no identity was given/],
    [['restore', '--yes', '--identity', keys.other, encrypted], 7, /no identity in .*other\.key opens/],
    [['restore', '--yes', '--identity', loose, encrypted], 3, /loose\.key is readable by others \(mode 0644\)[\s\S]*chmod 600 .*loose\.key/],
    [['restore', '--yes', '--identity', keys.identity, flipped], 7, /damaged or truncated: chunk \d+ .*fails authentication/],
    [['verify', '--identity', keys.identity, flipped], 7, /fails authentication/],
  ];
  for (const [args, code, message] of cases) {
    const run = await tool(args);
    assert.equal(run.code, code, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.equal(run.stderr.trim().split('\n').filter((l) => l.startsWith('hossadm:')).length, 1, 'one line');
    assert.doesNotMatch(run.stdout + run.stderr, /AGE-SECRET-KEY|Error: | {4}at /);
  }
  assert.deepEqual(await containerStates(), RUNNING);
  assert.deepEqual(changedKeys(now, await fingerprint()), [], 'refused runs change nothing');
});
