// Redis restore, onto a fresh stack (once it runs) or a running one: the
// archived RDB waits in BACKUP_ROOT, the Redis container is stopped (its
// shutdown save happens now, before anything is placed, so it cannot undo
// the restore), a helper places the files, and the container is started.
//
// The append-only file is the trap: Redis 7.0 with `appendonly yes` loads
// its AOF, never dump.rdb, and with no AOF it starts EMPTY and writes an
// empty one. Rather than start Redis once with AOF off and then switch it on
// with CONFIG SET appendonly yes + CONFIG REWRITE (which needs a changed
// container command, and rewrites the operator's config file, or fails when
// it is read-only or absent), the restore writes what Redis itself would:
//   - `appendonly yes`: a new `<appenddirname>/` whose manifest names the
//     RDB as the base file (`<appendfilename>.1.base.rdb`, a hard link to
//     dump.rdb) and an empty incr file. 7.0 reads a base with an RDB
//     preamble as RDB, so Redis loads exactly the archived dataset; then
//     BGREWRITEAOF makes a base of its own and proves the AOF works;
//   - `appendonly no`: dump.rdb only, and the old appendonlydir removed, so
//     a later switch to AOF cannot bring back its stale keys.
// Either way the old AOF is gone, the operator's config is untouched, and
// the container starts with the command Compose gave it.
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeToContainer } from '../../core/fifo.ts';
import { folderOwner, removeTree, tarTreeIn } from '../../docker/tree-helper.ts';
import { ArchiveError, OperationError, PreflightError } from '../../errors.ts';
import type { RestoreContext, RestoreTask } from '../component.ts';
import { TREE, treeHelper } from '../tree/tree-copy.ts';
import { rdbMember } from './redis-backup.ts';
import { tarOf, type PlacedEntry } from './rdb-files.ts';
import { redisFingerprint } from './redis-fingerprint.ts';
import { connectRedis, info, majorOf, persistence, pollRedis, redisContainer, redisData, withRedis, type Persistence, type RedisContext } from './redis-server.ts';
import type { RedisConnection } from './resp.ts';

interface Details {
  service?: string;
  rdbBytes?: number;
  appendonly?: boolean;
}

const RDB_MAGIC = Buffer.from('REDIS');
const WAIT_MS = 10 * 60_000;

/** Passes bytes through, failing unless they start like an RDB file. */
class RdbMagic extends Transform {
  private head: Buffer = Buffer.alloc(0);
  private checked = false;
  private readonly member: string;
  constructor(member: string) {
    super();
    this.member = member;
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.checked) {
      this.head = Buffer.concat([this.head, chunk]).subarray(0, RDB_MAGIC.length);
      if (this.head.length >= RDB_MAGIC.length) {
        this.checked = true;
        if (!this.head.equals(RDB_MAGIC)) return callback(new ArchiveError(`${this.member} is not an RDB file`, { member: this.member }));
      }
    }
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    callback(this.checked ? null : new ArchiveError(`${this.member} is too short to be an RDB file`, { member: this.member }));
  }
}

/** The files Redis must find in its data folder to load `rdb`, given how it persists. */
export function placedFiles(p: Persistence, rdb: string, size: number): PlacedEntry[] {
  const entries: PlacedEntry[] = [{ name: p.dbfilename, type: 'file', mode: 0o600, path: rdb, size }];
  if (!p.appendonly) return entries;
  const dir = p.appenddirname;
  const base = `${p.appendfilename}.1.base.rdb`;
  const incr = `${p.appendfilename}.1.incr.aof`;
  return [
    ...entries,
    { name: dir, type: 'dir', mode: 0o700 },
    { name: `${dir}/${base}`, type: 'link', mode: 0o600, target: p.dbfilename },
    { name: `${dir}/${incr}`, type: 'file', mode: 0o600, content: Buffer.alloc(0) },
    { name: `${dir}/${p.appendfilename}.manifest`, type: 'file', mode: 0o600, content: Buffer.from(`file ${base} seq 1 type b\nfile ${incr} seq 1 type i\n`) },
  ];
}

export function redisRestoreTask(ctx: RedisContext<RestoreContext>): RestoreTask {
  const { id, service } = ctx.redis;
  const details = ctx.record.details as Details;
  const member = rdbMember(id);
  const hostScratch = join(ctx.config.backupRoot, `.restore-${id}`);
  const rdbFile = join(hostScratch, 'dump.rdb');
  let received = false;

  const checkVersion = async (redis: RedisConnection) => {
    const live = (await info(redis, 'server')).get('redis_version') ?? 'unknown';
    const saved = ctx.record.versions?.redis;
    if (saved && majorOf(saved) !== majorOf(live)) {
      const message = `the archive's RDB comes from Redis ${saved}, the running ${service} is Redis ${live}`;
      if (!ctx.forceVersion) throw new PreflightError(message, { hint: 'run the Redis major version the backup was taken with, or add --force-version' });
      ctx.reporter.warn(`${message}; going on because of --force-version`);
    }
  };

  /** Connected once the server answers and has loaded its data. */
  const ready = (what: string) =>
    pollRedis(what, async () => {
      const redis = await connectRedis(ctx, await redisContainer(ctx));
      if ((await info(redis, 'persistence')).get('loading') === '0') return redis;
      await redis.close();
      return undefined;
    }, WAIT_MS, ctx.signal);

  const rewriteAof = async (redis: RedisConnection) => {
    const idle = async () => {
      const p = await info(redis, 'persistence');
      return p.get('aof_rewrite_in_progress') === '0' && p.get('aof_rewrite_scheduled') === '0' ? p : undefined;
    };
    await pollRedis(`${service}: earlier AOF rewrite finishing`, idle, WAIT_MS, ctx.signal);
    await redis.call('BGREWRITEAOF');
    const done = await pollRedis(`${service}: AOF rewrite`, idle, WAIT_MS, ctx.signal);
    if (done.get('aof_last_bgrewrite_status') !== 'ok' || done.get('aof_enabled') !== '1') {
      throw new OperationError(`Redis of ${service} could not rewrite its append-only file after the restore (status ${done.get('aof_last_bgrewrite_status')})`, {
        hint: `check "docker logs" of ${service}: the data folder must be writable and have room`,
      });
    }
  };

  return {
    async describe() {
      const what = `the archived RDB (${details.rdbBytes ?? '?'} bytes)`;
      return ctx.situation === 'fresh'
        ? [`${id}: once the stack runs, ${service} is stopped, ${what} placed in its data folder (with a fresh append-only file when AOF is on) and ${service} started again`]
        : [`${id}: ${service} stopped, its dataset and append-only file replaced by ${what}, then started again`];
    },

    async preflight() {
      if (ctx.situation !== 'in-place') return;
      await withRedis(ctx, async (redis, container) => {
        await checkVersion(redis);
        await persistence(ctx, redis);
        await redisData(ctx, container);
      });
    },

    async receive(name, input) {
      if (name !== member) throw new ArchiveError(`archive member ${name} is not the RDB of ${id}`, { member: name });
      await mkdir(hostScratch, { recursive: true, mode: 0o700 });
      await pipeline(input, new RdbMagic(name), createWriteStream(rdbFile, { mode: 0o600 }));
      received = true;
    },

    async load() {
      if (!received) throw new ArchiveError(`the archive has no ${member}`, { member });
      try {
        const before = await ctx.reporter.step(`${id} ${service} answering`, () => ready(`${service} answering`));
        let live: Persistence;
        try {
          // In place this was checked before anything changed; a fresh stack answers only now.
          if (ctx.situation === 'fresh') await checkVersion(before);
          live = await persistence(ctx, before);
        } finally {
          await before.close();
        }
        const container = await redisContainer(ctx);
        const data = await redisData(ctx, container);
        const dir = posix.join(TREE, data.subdir);
        const mounts = [{ source: data.mountSource, target: TREE }, { source: ctx.pipeDir, target: '/in', readOnly: true }];
        const { owner } = await folderOwner(treeHelper(ctx, `owner of ${service} data`, mounts), dir);
        const size = (await stat(rdbFile)).size;

        await ctx.reporter.step(`${id} stop ${service}`, () => ctx.docker.stopContainer(container.id, 60));
        try {
          // With AOF off the old appendonlydir goes too: a later switch to AOF would load its stale keys.
          if (!live.appendonly) await removeTree(treeHelper(ctx, `remove ${service} append-only files`, mounts), posix.join(dir, live.appenddirname));
          const pipe = `${id}-redis.tar`;
          await ctx.reporter.step(`${id} place RDB${live.appendonly ? ' and a new append-only file' : ''}`, () =>
            writeToContainer(
              { hostDir: ctx.pipeDir, name: pipe },
              (output) => pipeline(tarOf(placedFiles(live, rdbFile, size), owner), output),
              async () => {
                await tarTreeIn(treeHelper(ctx, `restore ${service} RDB`, mounts), dir, `/in/${pipe}`, live.appendonly ? [live.dbfilename, live.appenddirname] : [live.dbfilename]);
              },
            ),
          );
        } finally {
          // Started again even when placing failed, so the run does not wait for a service it stopped itself.
          await ctx.reporter.step(`${id} start ${service}`, () => ctx.docker.startContainer(container.id));
        }
        const after = await ctx.reporter.step(`${id} ${service} loaded the RDB`, () => ready(`${service} loading the restored RDB`));
        try {
          if (live.appendonly) await ctx.reporter.step(`${id} AOF rewrite`, () => rewriteAof(after));
        } finally {
          await after.close();
        }
      } finally {
        await rm(hostScratch, { recursive: true, force: true });
      }
    },

    async fingerprint() {
      return withRedis(ctx, (redis) => redisFingerprint(redis, ctx.redis.databases));
    },
  };
}
