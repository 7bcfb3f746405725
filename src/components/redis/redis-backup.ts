// Redis backup without stopping Redis. In the freeze phase (writers stopped
// in cold mode) `redis-cli --rdb` runs inside the Redis container: it asks
// the server for a replication snapshot (a forked, point-in-time RDB, the
// same one BGSAVE writes) and stores it in a file of the data folder; the
// password travels in the exec's environment (REDISCLI_AUTH), never in
// argv. A helper then streams that file out into the archive member
// `<id>/dump.rdb`, and the file is removed, also when the run fails.
import { posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { readFromContainer } from '../../core/fifo.ts';
import { folderOwner, tarTreeOut } from '../../docker/tree-helper.ts';
import type { ContainerInfo } from '../../docker/types.ts';
import { OperationError } from '../../errors.ts';
import { type BackupContext, type BackupFacts, type BackupTask, type ComponentRecord, type ContentFingerprint, frozenIn } from '../component.ts';
import { TREE, treeHelper } from '../tree/tree-copy.ts';
import { SingleFileFromTar } from './rdb-files.ts';
import { redisFingerprint } from './redis-fingerprint.ts';
import { connectRedis, info, persistence, redisContainer, redisData, type RedisContext, type RedisData } from './redis-server.ts';
import { asText, type RedisConnection } from './resp.ts';

/** The RDB inside the helper's one-file tar; a failure on either side ends both. */
function unwrap(input: Readable): Readable {
  return pipeline(input, new SingleFileFromTar(), () => undefined);
}

export const TEMP_PREFIX = 'hossadm-';
export const rdbMember = (id: string) => `${id}/dump.rdb`;

/** The environment of an exec that logs redis-cli in: the password never reaches argv. */
export function cliEnv(ctx: RedisContext): Record<string, string> {
  return ctx.redis.password === undefined ? {} : { REDISCLI_AUTH: ctx.redis.password };
}

/** Removes RDB files an interrupted run left in the data folder; returns their paths. */
async function sweepLeftovers(ctx: RedisContext, container: ContainerInfo): Promise<string[]> {
  const script = `for f in "$1"/${TEMP_PREFIX}*.rdb; do [ -e "$f" ] || continue; rm -f -- "$f" && echo "$f"; done`;
  const result = await ctx.docker.exec(container.id, ['sh', '-c', script, 'hossadm', ctx.redis.dataDir]);
  if (result.exitCode !== 0) throw new OperationError(`cannot clear old RDB copies in ${ctx.redis.dataDir} of ${ctx.redis.service}`, { details: result.stderr.trim() });
  return result.stdout.split('\n').filter(Boolean);
}

export async function preflightRedis(ctx: RedisContext<BackupContext>): Promise<BackupFacts> {
  const container = await redisContainer(ctx);
  const redis = await connectRedis(ctx, container);
  try {
    await redisData(ctx, container);
    await persistence(ctx, redis);
    const server = await info(redis, 'server');
    const memory = await info(redis, 'memory');
    for (const path of await sweepLeftovers(ctx, container)) ctx.reporter.warn(`removed ${path}, an RDB copy an interrupted run left in ${ctx.redis.service}`);
    return { versions: { redis: server.get('redis_version') ?? 'unknown' }, estimatedBytes: Number(memory.get('used_memory_dataset') ?? memory.get('used_memory') ?? 0) };
  } finally {
    await redis.close();
  }
}

const SYNC_DELAY = 'repl-diskless-sync-delay';

/**
 * Runs `work` with the server's diskless-sync delay at 0. redis-cli --rdb is
 * served as a replication sync, which a server with diskless sync (Redis 7's
 * default) starts only after repl-diskless-sync-delay, 5 s by default, so
 * that more replicas can share the transfer; one reader has none to wait
 * for. The setting is put back right after, also when the snapshot fails; a
 * server that refuses CONFIG keeps its delay and the snapshot just waits.
 */
async function withoutSyncDelay<T>(ctx: RedisContext<BackupContext>, redis: RedisConnection, work: () => Promise<T>): Promise<T> {
  let previous: string | undefined;
  try {
    const reply = await redis.call('CONFIG', 'GET', SYNC_DELAY);
    const value = Array.isArray(reply) && reply.length === 2 ? asText(reply[1]!) : undefined;
    if (value !== undefined && /^[1-9]\d*$/.test(value)) {
      await redis.call('CONFIG', 'SET', SYNC_DELAY, '0');
      previous = value;
    }
  } catch {
    // Renamed or refused CONFIG: the snapshot waits out the server's delay.
  }
  try {
    return await work();
  } finally {
    if (previous !== undefined) {
      const delay = previous;
      await redis.call('CONFIG', 'SET', SYNC_DELAY, delay).catch((error: unknown) =>
        ctx.reporter.warn(`could not set ${SYNC_DELAY} of ${ctx.redis.service} back to ${delay} (${(error as Error).message}); it is 0 now`),
      );
    }
  }
}

export function redisBackupTask(ctx: RedisContext<BackupContext>): BackupTask {
  const { id, service, dataDir, port, databases } = ctx.redis;
  const temp = `${TEMP_PREFIX}${ctx.runId}.rdb`;
  const tempPath = posix.join(dataDir, temp);
  let container: ContainerInfo | undefined;
  let data: RedisData | undefined;
  let owner = '';
  let redis: RedisConnection | undefined;
  let fingerprint: ContentFingerprint | undefined;
  let written = false;
  let appendonly = false;

  const removeTemp = async () => {
    if (!written || !container) return;
    const result = await ctx.docker.exec(container.id, ['rm', '-f', '--', tempPath], { user: owner });
    if (result.exitCode !== 0) throw new OperationError(`cannot remove ${tempPath} in ${service}`, { details: result.stderr.trim() });
    written = false;
  };
  const close = async () => {
    await redis?.close().catch(() => undefined);
    redis = undefined;
  };

  return {
    async prepare() {
      container = await redisContainer(ctx);
      data = await redisData(ctx, container);
      owner = (await folderOwner(treeHelper(ctx, `owner of ${service} data`, [{ source: data.mountSource, target: TREE, readOnly: true }]), posix.join(TREE, data.subdir))).owner;
      redis = await connectRedis(ctx, container);
      appendonly = (await persistence(ctx, redis)).appendonly;
    },
    ...frozenIn([{ label: `${id} RDB snapshot`, mounts: [], run: async (allWritersStopped) => {
      written = true;
      const result = await ctx.reporter.step(`${id} RDB snapshot (redis-cli --rdb)`, () =>
        withoutSyncDelay(ctx, redis!, () =>
          ctx.docker.exec(container!.id, ['redis-cli', '-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', '--rdb', tempPath], { env: cliEnv(ctx), user: owner })));
      if (result.exitCode !== 0) {
        throw new OperationError(`redis-cli --rdb in ${service} failed with exit code ${result.exitCode}`, {
          details: (result.stderr || result.stdout).trim(),
          hint: `check "docker logs ${container!.name}": the server must be able to fork a snapshot and the data folder must have room for it`,
        });
      }
      // With every writer stopped the live keys equal the RDB: count them now. Otherwise (hot, or writers running) later, as live.
      if (ctx.mode === 'cold' && allWritersStopped) {
        fingerprint = await ctx.reporter.step(`${id} fingerprint`, () => redisFingerprint(redis!, databases), (f) => `${Object.keys(f).length} databases`);
      }
    } }]),
    async finish(): Promise<ComponentRecord> {
      try {
        const pipe = `${id}-dump.rdb.pipe`;
        const staged = await ctx.reporter.step(`${id} copy RDB`, () =>
          readFromContainer(
            { hostDir: ctx.staging.pipeDir, name: pipe },
            (input) => ctx.staging.add(id, rdbMember(id), unwrap(input)),
            async () => {
              const mounts = [{ source: data!.mountSource, target: TREE, readOnly: true }, { source: ctx.staging.pipeDir, target: '/out' }];
              await tarTreeOut(treeHelper(ctx, `backup ${service} RDB`, mounts), posix.join(TREE, data!.subdir), `/out/${pipe}`, [temp]);
            },
          ),
          (m) => `${m.size} bytes`,
        );
        await removeTemp();
        const live = fingerprint === undefined;
        fingerprint ??= await redisFingerprint(redis!, databases);
        return {
          details: { service, rdb: rdbMember(id), rdbBytes: staged.size, appendonly, dataOwner: owner },
          fingerprint,
          live,
        };
      } finally {
        await close();
      }
    },
    async abort() {
      await removeTemp().catch((e) => ctx.reporter.warn(`could not remove ${tempPath} in ${service}: ${(e as Error).message}`));
      await close();
    },
  };
}
