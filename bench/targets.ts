// What the bench needs to know of each reference stack: how big a scale
// unit is, how to fill it, what its state weighs, its floor (floor.ts
// pieces, one per component of hossadm's profile for it) and which of
// hossadm's steps are the copy the writers wait for.
import { join } from 'node:path';
import { openS3 } from '../src/components/objectstore/object-client.ts';
import { fillPlan, fillVolume } from './fill.ts';
import { cassandraPiece, execIn, type FloorPiece, folderPiece, objectsPiece, postgresPieces, redisPiece, snapshotPiece } from './floor.ts';
import type { Step } from './measure.ts';
import { BENCH_VOLUME, type BenchStack, run, type StackName } from './stack.ts';

export interface BenchTarget {
  name: StackName;
  /** `compose/stack seed --scale` per bench scale unit. */
  seedPerScale: number;
  /** The growth factor measured unless --factor says otherwise (1: none). */
  defaultFactor: number;
  /** Minutes one repetition at 1× takes on the 2-core machine, and the fixed cost (up, seed, teardown); for the estimate. */
  minutesPerRun: number;
  minutesFixed: number;
  /** Seeds (and for HOSS fills) the stack for a bench scale; returns a line for the log. */
  fill(stack: BenchStack, scale: number): Promise<string>;
  stateSizes(stack: BenchStack): Promise<Record<string, number>>;
  floor(stack: BenchStack): FloorPiece[];
  /** The floor in one sentence, for the results file. */
  floorDescription: string;
  /** Seconds of the backup's copy while the writers are stopped. */
  copyPhaseSeconds(steps: readonly Step[]): number;
}

/**
 * Per stack: its scale unit in stack seed units, its default growth, and
 * the cost model of the estimate (minutes per repetition at 1× and fixed
 * minutes for build, up, seed and teardown, measured on the shared 2-core
 * machine). HOSS: 1 M Postgres rows and 100 k documents per 10 seed units,
 * plus the bench volume; TheHive 10 000 cases; Wire 1 000 users with their
 * assets; CyberSift 10 000 documents and 250 models.
 */
const SIZES = {
  hoss: { name: 'hoss', seedPerScale: 10, defaultFactor: 4, minutesPerRun: 3.3, minutesFixed: 3 },
  thehive: { name: 'thehive', seedPerScale: 50, defaultFactor: 1, minutesPerRun: 1.5, minutesFixed: 2 },
  wire: { name: 'wire', seedPerScale: 25, defaultFactor: 1, minutesPerRun: 1.3, minutesFixed: 2 },
  cybersift: { name: 'cybersift', seedPerScale: 50, defaultFactor: 1, minutesPerRun: 1, minutesFixed: 1.2 },
} as const;

const du = async (path: string) => Number((await run('du', ['-sb', path])).stdout.split('\t')[0]);

/** Sum of the steps hossadm ran between stopping the writers and starting them again. */
export function freezePhaseSeconds(steps: readonly Pick<Step, 'label' | 'seconds'>[]): number {
  const stop = steps.findIndex((s) => s.label.startsWith('stop writers'));
  const start = steps.findIndex((s, i) => i > stop && s.label.startsWith('start writers'));
  if (stop < 0 || start < 0) return 0;
  return steps.slice(stop + 1, start).reduce((sum, s) => sum + s.seconds, 0);
}

async function serviceUrl(stack: BenchStack, service: string, port: number): Promise<string> {
  const c = await stack.container(service);
  return `http://${await stack.docker.containerAddress(c.id)}:${port}`;
}

/** Bytes of the user indices (store size), OpenSearch or Elasticsearch. */
async function indexBytes(url: string): Promise<number> {
  const indices = (await (await fetch(`${url}/_cat/indices?format=json&bytes=b&h=index,store.size`)).json()) as { index: string; 'store.size': string }[];
  return indices.filter((i) => !i.index.startsWith('.')).reduce((sum, i) => sum + Number(i['store.size']), 0);
}

const seed = async (stack: BenchStack, scale: number, perScale: number) => {
  await stack.stackVerb('seed', '--scale', String(scale * perScale));
  return `stack seed --scale ${scale * perScale}`;
};

const hoss: BenchTarget = {
  ...SIZES.hoss,
  async fill(stack, scale) {
    const plan = fillPlan(scale);
    await seed(stack, scale, SIZES.hoss.seedPerScale);
    await fillVolume(stack.docker, { volume: stack.dockerVolume(BENCH_VOLUME), scale, image: stack.env.HOSSADM_HELPER_IMAGE || 'hoss-local/busybox:local', pipeDir: stack.pipeDir, runId: stack.runId });
    return `stack seed --scale ${scale * SIZES.hoss.seedPerScale}; ${BENCH_VOLUME}: ${plan.files} files, ${(plan.bytes / 1e9).toFixed(2)} GB`;
  },
  async stateSizes(stack) {
    const sizes: Record<string, number> = {};
    for (const volume of stack.volumes()) sizes[`volume ${volume}`] = await du(await stack.mountpoint(volume));
    const db = await stack.container('db');
    const query = `select coalesce(sum(pg_database_size(datname)), 0) from pg_database where datname in ('${stack.env.POSTGRES_CORE_DB}', '${stack.env.POSTGRES_AUTH_DB}')`;
    sizes.postgres = Number((await execIn(db.name, ['psql', '-At', '-U', stack.env.POSTGRES_USER!, '-d', 'postgres', '-c', query], { PGPASSWORD: stack.env.POSTGRES_PASSWORD })).trim());
    sizes.opensearch = await indexBytes(await stack.searchUrl());
    return sizes;
  },
  floor: (stack) => [
    ...stack.volumes().map((volume) => folderPiece(stack, `volume ${volume}`, () => stack.mountpoint(volume))),
    ...postgresPieces(stack, {
      service: 'db',
      user: stack.env.POSTGRES_USER!,
      password: stack.env.POSTGRES_PASSWORD!,
      databases: [stack.env.POSTGRES_CORE_DB!, stack.env.POSTGRES_AUTH_DB!],
      hostBackupDir: join(stack.backupRoot, '.db'),
    }),
    snapshotPiece(stack, { url: () => stack.searchUrl(), repoPath: '/mnt/snapshots', hostRepoPath: join(stack.backupRoot, '.opensearch') }),
  ],
  floorDescription:
    'per volume host GNU tar | zstd -3 -T2 > file + fsync; pg_dump -Fc per database via docker exec; snapshot create (wait_for_completion); restore: zstd -d | tar -x, pg_restore into a scratch database, snapshot restore with renamed indices',
  copyPhaseSeconds: (steps) => steps.filter((x) => x.label.startsWith('volume ')).reduce((sum, x) => sum + x.seconds, 0),
};

const CASSANDRA_FLOOR = 'nodetool snapshot + host tar of the snapshot folders | zstd -3 -T2 + fsync (restore: zstd -d | tar -x into a staging folder on the node, nodetool import per table)';
const SEARCH_FLOOR = 'Elasticsearch 7 snapshot create (wait_for_completion; restore: snapshot restore with renamed indices)';
const FOLDER_FLOOR = 'host GNU tar | zstd -3 -T2 + fsync (restore: zstd -d | tar -x into an empty folder)';

const thehive: BenchTarget = {
  ...SIZES.thehive,
  fill: (stack, scale) => seed(stack, scale, SIZES.thehive.seedPerScale),
  async stateSizes(stack) {
    // Written rows reach the table folders at a flush; count them there.
    await execIn((await stack.container('cassandra')).name, ['nodetool', 'flush']);
    return {
      cassandra: await du(join(stack.hossDir, 'cassandra', 'data', 'data', stack.env.CASSANDRA_KEYSPACE ?? 'thehive')),
      elasticsearch: await indexBytes(await serviceUrl(stack, 'elasticsearch', 9200)),
      files: await du(join(stack.hossDir, 'thehive', 'data', 'files')),
      config: await du(join(stack.hossDir, 'thehive', 'config')),
    };
  },
  floor: (stack) => [
    cassandraPiece(stack, { service: 'cassandra', label: 'cassandra', keyspaces: [stack.env.CASSANDRA_KEYSPACE ?? 'thehive'], hostData: join(stack.hossDir, 'cassandra', 'data') }),
    snapshotPiece(stack, { url: () => serviceUrl(stack, 'elasticsearch', 9200), repoPath: '/mnt/snapshots', hostRepoPath: join(stack.backupRoot, '.elasticsearch') }),
    folderPiece(stack, 'folder files', async () => join(stack.hossDir, 'thehive', 'data', 'files')),
    folderPiece(stack, 'folder config', async () => join(stack.hossDir, 'thehive', 'config')),
  ],
  floorDescription: `cassandra: ${CASSANDRA_FLOOR}; index: ${SEARCH_FLOOR}; files and config folders: ${FOLDER_FLOOR}`,
  copyPhaseSeconds: freezePhaseSeconds,
};

const WIRE_KEYSPACES = ['brig', 'galley', 'gundeck', 'spar'];
const WIRE_NODES = ['cassandra1', 'cassandra2'];

const wire: BenchTarget = {
  ...SIZES.wire,
  fill: (stack, scale) => seed(stack, scale, SIZES.wire.seedPerScale),
  async stateSizes(stack) {
    const sizes: Record<string, number> = {};
    for (const node of WIRE_NODES) {
      await execIn((await stack.container(node)).name, ['nodetool', 'flush']);
      sizes[node] = 0;
      for (const keyspace of WIRE_KEYSPACES) sizes[node] += await du(join(stack.hossDir, node, 'data', keyspace));
    }
    sizes.objectstore = await du(join(stack.hossDir, 'objectstore'));
    sizes.installation = await du(join(stack.hossDir, 'wire-server'));
    return sizes;
  },
  floor: (stack) => [
    ...WIRE_NODES.map((node) => cassandraPiece(stack, { service: node, keyspaces: WIRE_KEYSPACES, hostData: join(stack.hossDir, node) })),
    objectsPiece(stack, async (work) => {
      const store = openS3({
        endpoint: await serviceUrl(stack, 'objectstore', 9000),
        region: stack.env.S3_REGION!,
        accessKey: stack.env.S3_ACCESS_KEY!,
        secretKey: stack.env.S3_SECRET_KEY!,
      });
      try {
        return await work(store);
      } finally {
        await store.close();
      }
    }),
    folderPiece(stack, 'folder installation', async () => join(stack.hossDir, 'wire-server')),
  ],
  floorDescription: `per cassandra node: ${CASSANDRA_FLOOR}; object store (versitygw, S3): one GET of every object to a host file, 4 at a time (restore: one PUT of each into a scratch bucket); installation folder: ${FOLDER_FLOOR}`,
  copyPhaseSeconds: freezePhaseSeconds,
};

const cybersift: BenchTarget = {
  ...SIZES.cybersift,
  fill: (stack, scale) => seed(stack, scale, SIZES.cybersift.seedPerScale),
  async stateSizes(stack) {
    return {
      elasticsearch: await indexBytes(await serviceUrl(stack, 'elasticsearch', 9200)),
      redis: await du(join(stack.hossDir, 'redis', 'data')),
      models: await du(join(stack.hossDir, 'models')),
      flows: await du(join(stack.hossDir, 'nifi', 'flows')),
    };
  },
  floor: (stack) => [
    snapshotPiece(stack, { url: () => serviceUrl(stack, 'elasticsearch', 9200), repoPath: '/data/es_backup', hostRepoPath: join(stack.backupRoot, '.elasticsearch') }),
    redisPiece(stack, { service: 'redis', password: stack.env.REDIS_PASSWORD! }),
    folderPiece(stack, 'folder models', async () => join(stack.hossDir, 'models')),
    folderPiece(stack, 'folder flows', async () => join(stack.hossDir, 'nifi', 'flows')),
  ],
  floorDescription: `index: ${SEARCH_FLOOR}; redis: redis-cli --rdb to a file, repl-diskless-sync-delay 0 (restore: the rdb copied into a scratch folder and a second redis-server started on it, AOF off, until it answers PING); models and flows folders: ${FOLDER_FLOOR}`,
  copyPhaseSeconds: freezePhaseSeconds,
};

export const TARGETS: Record<StackName, BenchTarget> = { hoss, thehive, wire, cybersift };
