// The floor: each component's native operation alone, on the same data,
// with nothing of hossadm around it. A backup cannot be faster than the sum
// of these, so hossadm's time divided by it is what the tool itself costs.
//
// A stack's floor is a list of pieces, one per component, each with a timed
// backup and restore and untimed preparation and clean-up around them; the
// pieces below are shared by every stack that has that kind of component:
//
// folder        backup: host GNU tar of the folder (as root) | zstd -3 -T2
//               > file, fsynced (hossadm: zstd level 3 on 2 parallel
//               engines, fsynced); restore: zstd -d | GNU tar -x into an
//               empty host folder. Named volumes are folders of the engine.
// postgres      backup: pg_dump -Fc through docker exec, to a file in the db
//               container's bind-mounted backup folder; restore: pg_restore
//               of that dump into a scratch database
// search        OpenSearch or Elasticsearch 7 (the same API): backup: the
//               snapshot call alone (create with wait_for_completion into a
//               fresh repository folder); restore: the snapshot restore
//               alone, indices renamed
// cassandra     per node: backup: nodetool snapshot of the keyspaces, then
//               host tar of the snapshot folders | zstd -3 -T2, fsynced;
//               restore: zstd -d | tar -x into a staging folder beside the
//               node's data, then nodetool import per table (moves the
//               SSTables into the live table; the rows equal those present,
//               and an untimed major compaction folds them afterwards)
// redis         backup: redis-cli --rdb to a file in the container (with
//               repl-diskless-sync-delay 0: the default waits 5 s for more
//               replicas, doing nothing);
//               restore: the rdb copied into a scratch folder and a second
//               redis-server (AOF off, loopback port) started on it until it
//               answers PING, i.e. the dataset is loaded; then stopped
// objects       backup: one GET of every object of every bucket into host
//               files (4 at a time); restore: one PUT of each into a scratch
//               bucket per bucket (4 at a time), removed afterwards
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ObjectStoreClient as ObjectStore } from '../src/components/objectstore/object-client.ts';
import { type BenchStack, run } from './stack.ts';

export interface FloorParts {
  /** Seconds per part, e.g. "volume ldap-vol0", "pg_dump hoss_core", "snapshot". */
  parts: Record<string, number>;
  total: number;
}

export interface FloorBackup extends FloorParts {
  /** Compressed bytes the folder floors wrote (for comparison with the archive). */
  volumeBytes: number;
  /** Bytes of the other pieces' output (dumps, rdb files, object copies). */
  dumpBytes: number;
}

/** One component's native backup and restore; only `backup` and `restore` are timed. */
export interface FloorPiece {
  /** The part's name in the figures, e.g. "volume ldap-vol0". */
  name: string;
  /** Its name among the restore's parts when that differs ("pg_restore hoss_core" for "pg_dump hoss_core"). */
  restoreName?: string;
  beforeBackup?(): Promise<unknown>;
  backup(): Promise<unknown>;
  /** Bytes the backup wrote outside the floor's volumes folder. */
  outputBytes?(): Promise<number>;
  beforeRestore?(): Promise<unknown>;
  restore(): Promise<unknown>;
  afterRestore?(): Promise<unknown>;
  /** Removes whatever the piece left (files, snapshots, scratch databases); must not fail when nothing is there. */
  cleanup?(): Promise<unknown>;
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const duBytes = async (path: string) => Number((await run('du', ['-sb', path])).stdout.split('\t')[0]);

export async function floorBackup(stack: BenchStack, pieces: readonly FloorPiece[]): Promise<FloorBackup> {
  await stack.removeTree(stack.floorDir);
  await mkdir(join(stack.floorDir, 'volumes'), { recursive: true });
  const parts: Record<string, number> = {};
  for (const piece of pieces) {
    await piece.beforeBackup?.();
    parts[piece.name] = await timed(() => piece.backup());
  }
  let dumpBytes = 0;
  for (const piece of pieces) if (piece.outputBytes) dumpBytes += await piece.outputBytes();
  return { parts, total: sum(Object.values(parts)), volumeBytes: await duBytes(join(stack.floorDir, 'volumes')), dumpBytes };
}

export async function floorRestore(pieces: readonly FloorPiece[]): Promise<FloorParts> {
  const parts: Record<string, number> = {};
  for (const piece of pieces) {
    await piece.beforeRestore?.();
    parts[piece.restoreName ?? piece.name] = await timed(() => piece.restore());
    await piece.afterRestore?.();
  }
  return { parts, total: sum(Object.values(parts)) };
}

/** Everything the floor runs left, then the floor's folder. */
export async function floorCleanup(stack: BenchStack, pieces: readonly FloorPiece[]): Promise<void> {
  for (const piece of pieces) await piece.cleanup?.().catch(() => undefined);
  await stack.removeTree(stack.floorDir);
}

/** A file name for a part: letters, digits, dots and dashes. */
const slug = (name: string) => name.replace(/[^A-Za-z0-9.-]+/g, '_');

const TAR_ZSTD = 'set -eo pipefail; tar -C "$1" -cf - . | zstd -3 -T2 -q -f -o "$2"; sync -- "$2"';
const UNZSTD_TAR = 'set -eo pipefail; zstd -d -q -c "$1" | tar -x --numeric-owner -C "$2" -f -';

/** A host folder (a named volume's mount point, a bind source): GNU tar | zstd, and back into an empty folder. */
export function folderPiece(stack: BenchStack, name: string, source: () => Promise<string>): FloorPiece {
  const archive = () => join(stack.floorDir, 'volumes', `${slug(name)}.tar.zst`);
  const target = join(stack.floorDir, 'extract', slug(name));
  return {
    name,
    backup: async () => run('bash', ['-c', TAR_ZSTD, 'floor', await source(), archive()]),
    beforeRestore: () => mkdir(target, { recursive: true }),
    restore: () => run('bash', ['-c', UNZSTD_TAR, 'floor', archive(), target]),
  };
}

/** `docker exec` into a container, secrets in the CLI's environment, never in argv. */
export async function execIn(container: string, argv: string[], secrets: Record<string, string | undefined> = {}): Promise<string> {
  const names = Object.keys(secrets).flatMap((k) => ['-e', k]);
  return (await run('docker', ['exec', ...names, container, ...argv], { ...process.env, ...secrets })).stdout;
}

// --- postgres

const CONTAINER_DUMP_DIR = '/mnt/backup/bench-floor';
const SCRATCH_DB = 'bench_floor_scratch';

/**
 * Per database: pg_dump -Fc, and pg_restore into a scratch database.
 * `hostDumpDir` is where the db container's /mnt/backup is on the host.
 */
export function postgresPieces(stack: BenchStack, opts: { service: string; user: string; password: string; databases: string[]; hostBackupDir: string }): FloorPiece[] {
  const exec = async (argv: string[]) => execIn((await stack.container(opts.service)).name, argv, { PGPASSWORD: opts.password });
  const psql = (sql: string) => exec(['psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '-q', '-U', opts.user, '-d', 'postgres', '-c', sql]);
  const dump = (database: string) => `${CONTAINER_DUMP_DIR}/${database}.dump`;
  return opts.databases.map((database, i) => ({
    name: `pg_dump ${database}`,
    restoreName: `pg_restore ${database}`,
    // The first database's piece prepares the folder and cleans up for all.
    ...(i === 0 ? { beforeBackup: () => exec(['sh', '-c', 'rm -rf -- "$1" && mkdir -p -- "$1"', 'floor', CONTAINER_DUMP_DIR]) } : {}),
    backup: () => exec(['pg_dump', '-Fc', '-U', opts.user, '-d', database, '-f', dump(database)]),
    outputBytes: () => duBytes(join(opts.hostBackupDir, 'bench-floor', `${database}.dump`)),
    beforeRestore: async () => {
      await psql(`drop database if exists ${SCRATCH_DB}`);
      await psql(`create database ${SCRATCH_DB} template template0`);
    },
    restore: () => exec(['pg_restore', '--exit-on-error', '--single-transaction', '-U', opts.user, '-d', SCRATCH_DB, dump(database)]),
    afterRestore: () => psql(`drop database ${SCRATCH_DB}`),
    ...(i === 0
      ? {
          cleanup: async () => {
            await psql(`drop database if exists ${SCRATCH_DB}`).catch(() => undefined);
            await stack.removeTree(join(opts.hostBackupDir, 'bench-floor'));
          },
        }
      : {}),
  }));
}

// --- OpenSearch / Elasticsearch 7

const REPOSITORY = 'bench-floor';
const SNAPSHOT = 'bench-floor-snap';
const RENAMED_PREFIX = 'bench-floor-restored-';

async function searchCall<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`search ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/**
 * The snapshot API alone: create into a fresh fs repository at
 * `repoPath` (under the engine's path.repo; `hostRepoPath` is the same
 * folder on the host), restore with every index renamed.
 */
export function snapshotPiece(stack: BenchStack, opts: { url: () => Promise<string>; repoPath: string; hostRepoPath: string }): FloorPiece {
  let restored: string[] = [];
  const call = async <T>(method: string, path: string, body?: unknown) => searchCall<T>(await opts.url(), method, path, body);
  return {
    name: 'snapshot',
    beforeBackup: () => call('PUT', `/_snapshot/${REPOSITORY}`, { type: 'fs', settings: { location: `${opts.repoPath}/${REPOSITORY}` } }),
    backup: () => call('PUT', `/_snapshot/${REPOSITORY}/${SNAPSHOT}?wait_for_completion=true`, { indices: '*,-.*', include_global_state: true }),
    restore: async () => {
      const answer = await call<{ snapshot: { indices: string[] } }>('POST', `/_snapshot/${REPOSITORY}/${SNAPSHOT}/_restore?wait_for_completion=true`, {
        indices: '*,-.*',
        rename_pattern: '(.+)',
        rename_replacement: `${RENAMED_PREFIX}$1`,
        include_aliases: false,
        include_global_state: false,
      });
      // The answer lists the indices under their new names.
      restored = answer.snapshot.indices;
    },
    afterRestore: async () => {
      if (restored.length > 0) await call('DELETE', `/${restored.join(',')}`);
      restored = [];
    },
    cleanup: async () => {
      await call('DELETE', `/_snapshot/${REPOSITORY}/${SNAPSHOT}`).catch(() => undefined);
      await call('DELETE', `/_snapshot/${REPOSITORY}`).catch(() => undefined);
      await stack.removeTree(join(opts.hostRepoPath, REPOSITORY));
    },
  };
}

// --- Cassandra

const CASSANDRA_TAG = 'bench-floor';
const STAGING = 'bench-floor-import';

/**
 * One node: `hostData` is the node's /var/lib/cassandra on the host.
 * Table folders are <keyspace>/<table>-<id>; their snapshot is
 * snapshots/<tag> inside, which the tar keeps as relative paths.
 */
export function cassandraPiece(stack: BenchStack, opts: { service: string; keyspaces: string[]; hostData: string; label?: string }): FloorPiece {
  const archive = () => join(stack.floorDir, 'volumes', `cassandra-${slug(opts.service)}.tar.zst`);
  const staging = join(opts.hostData, STAGING);
  const nodetool = async (...args: string[]) => execIn((await stack.container(opts.service)).name, ['nodetool', ...args]);
  const clear = () => nodetool('clearsnapshot', '-t', CASSANDRA_TAG, '--', ...opts.keyspaces);
  return {
    name: opts.label ?? `cassandra ${opts.service}`,
    beforeBackup: () => clear(),
    backup: async () => {
      await nodetool('snapshot', '-t', CASSANDRA_TAG, '--', ...opts.keyspaces);
      await run('bash', [
        '-c',
        `set -eo pipefail; cd "$1/data"; find "\${@:3}" -path '*/snapshots/${CASSANDRA_TAG}' -type d -prune -print0 | tar --null -T - -cf - | zstd -3 -T2 -q -f -o "$2"; sync -- "$2"`,
        'floor',
        opts.hostData,
        archive(),
        ...opts.keyspaces,
      ]);
    },
    beforeRestore: async () => {
      await stack.removeTree(staging);
      await mkdir(staging, { recursive: true });
    },
    restore: async () => {
      await run('bash', ['-c', UNZSTD_TAR, 'floor', archive(), staging]);
      // The staging folder is the node's own file system, so import moves the files.
      await run('chown', ['-R', '--reference', join(opts.hostData, 'data'), staging]);
      const script = [];
      for (const keyspace of await readdir(staging)) {
        for (const folder of await readdir(join(staging, keyspace))) {
          const table = folder.replace(/-[0-9a-f]{32}$/, '');
          script.push(`nodetool import -- ${keyspace} ${table} /var/lib/cassandra/${STAGING}/${keyspace}/${folder}/snapshots/${CASSANDRA_TAG}`);
        }
      }
      // One exec for all tables; each nodetool is a JVM of its own, as an operator's loop would be.
      await execIn((await stack.container(opts.service)).name, ['sh', '-ec', script.join('\n')]);
    },
    afterRestore: async () => {
      // compact takes one keyspace (the rest would be its tables).
      await execIn((await stack.container(opts.service)).name, ['sh', '-ec', opts.keyspaces.map((k) => `nodetool compact -- ${k}`).join('\n')]);
      await stack.removeTree(staging);
    },
    cleanup: async () => {
      await clear();
      await stack.removeTree(staging);
    },
  };
}

// --- Redis

const RDB = '/tmp/bench-floor.rdb';
const RDB_RESTORE_DIR = '/tmp/bench-floor-restore';
const SCRATCH_PORT = '6390';

export function redisPiece(stack: BenchStack, opts: { service: string; password: string }): FloorPiece {
  const exec = async (argv: string[]) => execIn((await stack.container(opts.service)).name, argv, { REDISCLI_AUTH: opts.password });
  const stopScratch = () => exec(['sh', '-c', `env -u REDISCLI_AUTH redis-cli -p ${SCRATCH_PORT} shutdown nosave >/dev/null 2>&1 || true; rm -rf ${RDB_RESTORE_DIR}`]);
  const cli = (...args: string[]) => exec(['redis-cli', '--no-auth-warning', ...args]);
  // --rdb is a replica's full sync; a diskless one first waits
  // repl-diskless-sync-delay (5 s by default) for more replicas, which is no
  // work, so the floor runs with 0 and puts the server's value back after.
  let delay: string | undefined;
  return {
    name: 'redis',
    beforeBackup: async () => {
      await exec(['rm', '-f', RDB]);
      delay ??= (await cli('config', 'get', 'repl-diskless-sync-delay')).trim().split('\n')[1];
      await cli('config', 'set', 'repl-diskless-sync-delay', '0');
    },
    backup: () => cli('--rdb', RDB),
    outputBytes: async () => Number((await exec(['stat', '-c', '%s', RDB])).trim()),
    beforeRestore: () => stopScratch(),
    restore: () =>
      exec([
        'sh',
        '-ec',
        `mkdir -p ${RDB_RESTORE_DIR}; cp ${RDB} ${RDB_RESTORE_DIR}/dump.rdb
redis-server --port ${SCRATCH_PORT} --bind 127.0.0.1 --dir ${RDB_RESTORE_DIR} --dbfilename dump.rdb --appendonly no --save '' --daemonize yes >/dev/null
until [ "$(env -u REDISCLI_AUTH redis-cli -p ${SCRATCH_PORT} ping 2>/dev/null)" = PONG ]; do sleep 0.05; done`,
      ]),
    afterRestore: () => stopScratch(),
    cleanup: async () => {
      await stopScratch();
      await exec(['rm', '-f', RDB]);
      if (delay !== undefined) await cli('config', 'set', 'repl-diskless-sync-delay', delay);
    },
  };
}

// --- S3 object store

const PARALLEL = 4;
const SCRATCH_BUCKET_PREFIX = 'bench-floor-';


async function inParallel<T>(items: readonly T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}

/** Every object read once (GET) into a host file, and written back once (PUT) into scratch buckets. */
export function objectsPiece(stack: BenchStack, withStore: <T>(work: (store: ObjectStore) => Promise<T>) => Promise<T>): FloorPiece {
  const dir = join(stack.floorDir, 'objects');
  let listed: { bucket: string; key: string; size: number }[] = [];
  const scratch = (bucket: string) => `${SCRATCH_BUCKET_PREFIX}${bucket}`.slice(0, 63);
  const emptyScratch = (store: ObjectStore) =>
    Promise.all(
      [...new Set(listed.map((o) => o.bucket))].map(async (bucket) => {
        if (!(await store.listBuckets()).includes(scratch(bucket))) return;
        const keys: string[] = [];
        for await (const { key } of store.listKeys(scratch(bucket))) keys.push(key);
        await inParallel(keys, (key) => store.deleteObject(scratch(bucket), key));
        await store.deleteBucket(scratch(bucket));
      }),
    );
  return {
    name: 'objects',
    beforeBackup: () => mkdir(dir, { recursive: true }),
    backup: () =>
      withStore(async (store) => {
        listed = [];
        for (const bucket of (await store.listBuckets()).filter((b) => !b.startsWith(SCRATCH_BUCKET_PREFIX))) {
          for await (const { key, size } of store.listKeys(bucket)) listed.push({ bucket, key, size });
        }
        await inParallel(listed, async ({ bucket, key }, i) => {
          const object = await store.getObject(bucket, key);
          if (object) await pipeline(object.body, createWriteStream(join(dir, String(i))));
        });
      }),
    outputBytes: () => duBytes(dir),
    restore: () =>
      withStore(async (store) => {
        for (const bucket of new Set(listed.map((o) => o.bucket))) await store.createBucket(scratch(bucket));
        await inParallel(listed, async ({ bucket, key }, i) => {
          const file = join(dir, String(i));
          const size = (await stat(file)).size;
          await store.putObject(scratch(bucket), key, createReadStream(file), size, { contentType: undefined, metadata: {}, tags: {} });
        });
      }),
    afterRestore: () => withStore(emptyScratch),
    cleanup: () => withStore(emptyScratch),
  };
}
