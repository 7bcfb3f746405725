// The redis kind through the backup and restore engines on the fake engine,
// against an in-memory Redis that keeps 7.0's persistence rules (with AOF
// on and no AOF it starts empty): the RDB is taken with redis-cli --rdb and
// the password only in the exec's environment, a restore in place or onto a
// fresh host brings back every key with its expiry (AOF on or off) and
// leaves no stale append-only file, and a wrong password, a major skew and a
// member that is no RDB are refused.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { validateProfile } from '../../src/config/profile.ts';
import { runBackup } from '../../src/core/backup.ts';
import { runRestore } from '../../src/core/restore.ts';
import { ArchiveError, PreflightError } from '../../src/errors.ts';
import { rewriteArchive } from '../integration/archive-rewrite.ts';
import { FakeRedis, serveRedis } from '../support/fake-redis.ts';
import { buildStack, PASSWORD, type FakeStack } from '../support/fake-stack.ts';

const exists = (p: string) => access(p).then(() => true, () => false);

async function redisStack(t: TestContext, appendonly = true): Promise<{ stack: FakeStack; redis: FakeRedis }> {
  const profile = validateProfile({
    name: 'cache', configDirVariable: 'STACK_DIR', defaultConfigDir: '~/stack', defaultProject: 'cache', versionVariable: 'STACK_VERSION',
    backupRootDefault: '${STACK_DIR}/backup', helperImage: 'busybox',
    components: [
      { id: 'config', kind: 'folder', config: { root: '${STACK_DIR}', entries: ['.env'], required: ['.env'] } },
      { id: 'cache', kind: 'redis', config: { service: 'redis', password: { env: 'REDIS_PASSWORD' } } },
    ],
  });
  const stack = await buildStack(t, () => ({
    profile,
    project: 'cache',
    env: { COMPOSE_PROJECT_NAME: 'cache', REDIS_PASSWORD: PASSWORD, STACK_VERSION: '1', HOSSADM_UP_COMMAND: 'true' },
    services: [{ service: 'redis', volumes: { '/data': 'redis-data' } }, { service: 'worker' }],
  }));
  const redis = new FakeRedis(stack.docker, 'redis', { password: PASSWORD, appendonly });
  const tomorrow = Date.now() + 86_400_000;
  redis.set(0, Buffer.from([0x00, 0xff, 0x0d, 0x0a]), { type: 'string', value: Buffer.from([1, 2, 3, 0, 255]) });
  redis.set(0, 'result:1', { type: 'hash', value: new Map([['73636f7265', Buffer.from('0.5')]]) }, tomorrow);
  redis.set(1, 'events', { type: 'list', value: [Buffer.from('a'), Buffer.from('b')] });
  redis.set(3, 'tags', { type: 'set', value: new Map([['78', Buffer.from('x')], ['79', Buffer.from('y')]]) }, tomorrow + 5_000);
  await serveRedis(t, stack.docker, new Map([['redis', redis]]));
  return { stack, redis };
}

const snapshot = (redis: FakeRedis) => JSON.stringify([...redis.dbs].map(([n, d]) => [n, [...d.values()].map((e) => [e.key.toString('hex'), e.data.type, e.expireAt ?? null])]));

test('backup takes the RDB with redis-cli --rdb, the password only in the exec environment, and removes its copy', async (t) => {
  const { stack, redis } = await redisStack(t);
  const result = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  assert.ok(result.members!.some((m) => m.name === 'cache/dump.rdb'));
  const cli = stack.docker.execs.filter((e) => e.argv[0] === 'redis-cli');
  assert.equal(cli.length, 1);
  assert.equal(cli[0]!.options.env?.REDISCLI_AUTH, PASSWORD);
  for (const e of stack.docker.execs) assert.ok(!e.argv.some((a) => a.includes(PASSWORD)), `no password in ${e.argv.join(' ')}`);
  assert.deepEqual((await readdir(redis.hostData())).filter((n) => n.startsWith('hossadm-')), [], 'the RDB copy is removed');
  assert.deepEqual(stack.docker.events, [], 'Redis keeps serving, and the worker, which mounts none of its data, too');
  assert.deepEqual(redis.rdbDelays, ['0'], 'the snapshot does not wait out the diskless-sync delay');
  assert.equal(redis.syncDelays.at(-1), '5', 'and the server has its own delay back');
  assert.equal(result.consistency?.freeze, 'per-service');
});

for (const appendonly of [true, false]) {
  test(`in place with appendonly ${appendonly ? 'yes' : 'no'}: keys written after the backup are gone and no stale AOF is left`, async (t) => {
    const { stack, redis } = await redisStack(t, appendonly);
    const saved = snapshot(redis);
    const { archive } = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
    redis.set(0, 'written-after-backup', { type: 'string', value: Buffer.from('stale') });
    redis.dbs.get(1)!.clear();
    // An old AOF that would bring the stale key back if Redis read it.
    const aof = join(redis.hostData(), 'appendonlydir');
    await mkdir(aof, { recursive: true });
    await writeFile(join(aof, 'appendonly.aof.9.incr.aof'), '*3\r\n$3\r\nSET\r\n');

    const result = await runRestore(stack.restoreDeps(), { archive: archive!, dryRun: false, forceVersion: false });
    assert.equal(result.situation, 'in-place');
    assert.deepEqual(result.differences, []);
    assert.equal(snapshot(redis), saved, 'every key back with its type and deadline');
    assert.ok(stack.docker.events.includes('stop redis') && stack.docker.events.includes('start redis'));
    if (appendonly) {
      assert.match(await readFile(join(aof, 'appendonly.aof.manifest'), 'utf8'), /^file appendonly\.aof\.1\.base\.rdb seq 1 type b$/m);
      assert.ok(!(await exists(join(aof, 'appendonly.aof.9.incr.aof'))), 'the old AOF is gone');
      assert.equal(redis.rewrites, 1, 'BGREWRITEAOF after the load');
    } else {
      assert.ok(!(await exists(aof)), 'appendonlydir removed, so turning AOF on later cannot load it');
    }
    assert.ok(!(await exists(join(stack.backupRoot, '.restore-cache'))), 'the staged RDB is removed');
  });
}

test('fresh host: the archived keys come back although the new Redis has AOF on and no AOF', async (t) => {
  const { stack, redis } = await redisStack(t);
  const saved = snapshot(redis);
  const { archive } = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  const kept = join(stack.root, 'kept', 'a.tar.zst');
  await mkdir(join(stack.root, 'kept'));
  await writeFile(kept, await readFile(archive!));
  await stack.wipe();
  redis.dbs = new Map();
  const result = await runRestore(stack.restoreDeps(), { archive: kept, dryRun: false, forceVersion: false });
  assert.equal(result.situation, 'fresh');
  assert.deepEqual(result.differences, []);
  assert.equal(snapshot(redis), saved);
});

test('a wrong password is refused at pre-flight, by backup and by restore, before anything changes', async (t) => {
  const { stack, redis } = await redisStack(t);
  const { archive } = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  const saved = snapshot(redis);
  const env = join(stack.configDir, '.env');
  await writeFile(env, (await readFile(env, 'utf8')).replace(PASSWORD, 'not-the-password'));
  stack.docker.events.length = 0;
  await assert.rejects(runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false }), (e: unknown) => e instanceof PreflightError && /refused the password of cache \(WRONGPASS\)/.test(e.message) && !e.message.includes('not-the-password'));
  await assert.rejects(runRestore(stack.restoreDeps(), { archive: archive!, dryRun: false, forceVersion: false }), PreflightError);
  assert.deepEqual(stack.docker.events, [], 'nothing stopped');
  assert.equal(snapshot(redis), saved);
});

test('a Redis major skew is refused unless --force-version; a member that is no RDB is refused', async (t) => {
  const { stack, redis } = await redisStack(t);
  const { archive } = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  const skewed = join(stack.root, 'skewed.tar.zst');
  await rewriteArchive(archive!, skewed, 'zstd', (m) => {
    (m.components as Record<string, { versions: Record<string, string> }>).cache!.versions.redis = '6.2.14';
  });
  stack.docker.events.length = 0;
  await assert.rejects(runRestore(stack.restoreDeps(), { archive: skewed, dryRun: false, forceVersion: false }), (e: unknown) => e instanceof PreflightError && /comes from Redis 6\.2\.14, the running redis is Redis 7\.0\.15/.test(e.message));
  assert.deepEqual(stack.docker.events, []);
  const forced = await runRestore(stack.restoreDeps(), { archive: skewed, dryRun: false, forceVersion: true });
  assert.deepEqual(forced.differences, []);

  const config = await stack.config();
  const cache = config.components.find((c) => c.id === 'cache')!;
  const task = cache.restore({
    config, docker: stack.docker, reporter: stack.reporter, runId: 'r', signal: new AbortController().signal, containers: [], situation: 'in-place',
    record: { details: {}, fingerprint: {}, live: false }, pipeDir: join(stack.root, 'pipes'), forceVersion: false,
  });
  await assert.rejects(task.receive('cache/dump.rdb', Readable.from([Buffer.from('NOT AN RDB FILE')])), (e: unknown) => e instanceof ArchiveError && e.member === 'cache/dump.rdb');
  assert.ok(redis.keyCount() > 0);
});

test('a connection held idle for longer than its timeout still answers; a command left unanswered times out', async (t) => {
  const { createServer } = await import('node:net');
  const { asText, openRedis } = await import('../../src/components/redis/resp.ts');
  let answer = true;
  const accepted: import('node:net').Socket[] = [];
  const server = createServer((socket) => {
    accepted.push(socket);
    socket.on('data', () => answer && socket.write('+PONG\r\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of accepted) socket.destroy();
    server.close();
  });
  const port = (server.address() as { port: number }).port;
  const redis = await openRedis('127.0.0.1', port, 100);
  t.after(() => redis.close());
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.equal(asText(await redis.call('PING')), 'PONG', 'idle for three timeouts, still open');
  answer = false;
  await assert.rejects(redis.call('PING'), /no answer from 127\.0\.0\.1:\d+ within 0\.1 s/);
});
