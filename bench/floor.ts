// The floor: each component's native operation alone, on the same data,
// with nothing of hossadm around it. A backup cannot be faster than the sum
// of these, so hossadm's time divided by it is what the tool itself costs.
//
// backup floor  = per volume: host GNU tar of the engine's volume folder (as
//                 root) | zstd -3 -T2 > file, fsynced (hossadm: zstd level 3
//                 on 2 parallel engines, fsynced)
//               + per database: pg_dump -Fc through docker exec, to a file
//                 in the db container's bind-mounted backup folder
//               + the snapshot API call alone (create with
//                 wait_for_completion into a fresh repository folder)
// restore floor = per volume: zstd -d | GNU tar -x into an empty host folder
//               + per database: pg_restore of that dump into a scratch database
//               + the snapshot restore alone, indices renamed
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type BenchStack, run } from './stack.ts';

const REPOSITORY = 'bench-floor';
const SNAPSHOT = 'bench-floor-snap';
const CONTAINER_FLOOR_DIR = '/mnt/backup/bench-floor';
const SCRATCH_DB = 'bench_floor_scratch';
const RENAMED_PREFIX = 'bench-floor-restored-';

export interface FloorParts {
  /** Seconds per part, e.g. "volume ldap-vol0", "pg_dump hoss_core", "snapshot". */
  parts: Record<string, number>;
  total: number;
}

export interface FloorBackup extends FloorParts {
  /** Compressed bytes the volume floor wrote (for comparison with the archive). */
  volumeBytes: number;
  dumpBytes: number;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

async function search<T>(stack: BenchStack, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${await stack.searchUrl()}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`OpenSearch ${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

function databases(stack: BenchStack): string[] {
  return [stack.env.POSTGRES_CORE_DB!, stack.env.POSTGRES_AUTH_DB!];
}

/** `docker exec` into the db container, the password in the CLI's environment, never in argv. */
async function dbExec(stack: BenchStack, argv: string[]): Promise<void> {
  const db = await stack.container('db');
  await run('docker', ['exec', '-e', 'PGPASSWORD', db.name, ...argv], { ...process.env, PGPASSWORD: stack.env.POSTGRES_PASSWORD });
}

const psql = (stack: BenchStack, sql: string) =>
  dbExec(stack, ['psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '-q', '-U', stack.env.POSTGRES_USER!, '-d', 'postgres', '-c', sql]);

export async function floorBackup(stack: BenchStack): Promise<FloorBackup> {
  await stack.removeTree(stack.floorDir);
  await mkdir(join(stack.floorDir, 'volumes'), { recursive: true });
  const parts: Record<string, number> = {};
  for (const volume of stack.volumes()) {
    const source = await stack.mountpoint(volume);
    const out = join(stack.floorDir, 'volumes', `${volume}.tar.zst`);
    parts[`volume ${volume}`] = await timed(() =>
      run('bash', ['-c', 'set -eo pipefail; tar -C "$1" -cf - . | zstd -3 -T2 -q -f -o "$2"; sync -- "$2"', 'floor', source, out]),
    );
  }
  await dbExec(stack, ['sh', '-c', 'rm -rf -- "$1" && mkdir -p -- "$1"', 'floor', CONTAINER_FLOOR_DIR]);
  for (const database of databases(stack)) {
    parts[`pg_dump ${database}`] = await timed(() =>
      dbExec(stack, ['pg_dump', '-Fc', '-U', stack.env.POSTGRES_USER!, '-d', database, '-f', `${CONTAINER_FLOOR_DIR}/${database}.dump`]),
    );
  }
  await search(stack, 'PUT', `/_snapshot/${REPOSITORY}`, { type: 'fs', settings: { location: `/mnt/snapshots/${REPOSITORY}` } });
  parts.snapshot = await timed(() =>
    search(stack, 'PUT', `/_snapshot/${REPOSITORY}/${SNAPSHOT}?wait_for_completion=true`, { indices: '*,-.*', include_global_state: true }),
  );
  const size = async (path: string) => Number((await run('du', ['-sb', path])).stdout.split('\t')[0]);
  return {
    parts,
    total: Object.values(parts).reduce((a, b) => a + b, 0),
    volumeBytes: await size(join(stack.floorDir, 'volumes')),
    dumpBytes: await size(join(stack.backupRoot, '.db', 'bench-floor')),
  };
}

export async function floorRestore(stack: BenchStack): Promise<FloorParts> {
  const parts: Record<string, number> = {};
  for (const volume of stack.volumes()) {
    const target = join(stack.floorDir, 'extract', volume);
    await mkdir(target, { recursive: true });
    const archive = join(stack.floorDir, 'volumes', `${volume}.tar.zst`);
    parts[`volume ${volume}`] = await timed(() =>
      run('bash', ['-c', 'set -eo pipefail; zstd -d -q -c "$1" | tar -x --numeric-owner -C "$2" -f -', 'floor', archive, target]),
    );
  }
  for (const database of databases(stack)) {
    await psql(stack, `drop database if exists ${SCRATCH_DB}`);
    await psql(stack, `create database ${SCRATCH_DB} template template0`);
    parts[`pg_restore ${database}`] = await timed(() =>
      dbExec(stack, ['pg_restore', '--exit-on-error', '--single-transaction', '-U', stack.env.POSTGRES_USER!, '-d', SCRATCH_DB, `${CONTAINER_FLOOR_DIR}/${database}.dump`]),
    );
    await psql(stack, `drop database ${SCRATCH_DB}`);
  }
  let restored: string[] = [];
  parts.snapshot = await timed(async () => {
    const answer = await search<{ snapshot: { indices: string[] } }>(stack, 'POST', `/_snapshot/${REPOSITORY}/${SNAPSHOT}/_restore?wait_for_completion=true`, {
      indices: '*,-.*',
      rename_pattern: '(.+)',
      rename_replacement: `${RENAMED_PREFIX}$1`,
      include_aliases: false,
      include_global_state: false,
    });
    // The answer lists the indices under their new names.
    restored = answer.snapshot.indices;
  });
  if (restored.length > 0) await search(stack, 'DELETE', `/${restored.join(',')}`);
  return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
}

/** Everything the floor runs left: files, the scratch database, the snapshot and its repository. */
export async function floorCleanup(stack: BenchStack): Promise<void> {
  await psql(stack, `drop database if exists ${SCRATCH_DB}`).catch(() => undefined);
  await search(stack, 'DELETE', `/_snapshot/${REPOSITORY}/${SNAPSHOT}`).catch(() => undefined);
  await search(stack, 'DELETE', `/_snapshot/${REPOSITORY}`).catch(() => undefined);
  await stack.removeTree(join(stack.backupRoot, '.opensearch', REPOSITORY));
  await stack.removeTree(join(stack.backupRoot, '.db', 'bench-floor'));
  await stack.removeTree(stack.floorDir);
}
