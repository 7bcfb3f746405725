// The Wire stack's data from the host: readiness, the schema (what Wire's
// *-schema jobs do), the seed, the fingerprint and the cross-store
// consistency counts. CQL goes to both nodes' addresses on the compose
// network; the fingerprint reads every row at consistency ALL (both
// replicas must answer), so a row a node lost or never imported fails it.
// S3 goes through the objectstore kind's own client, with the .env keys.
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import cassandra from 'cassandra-driver';
import { openCql, tableFingerprint } from '../../../src/components/cassandra/cql.ts';
import { bucketFingerprint, liveEntries } from '../../../src/components/objectstore/bucket-archive.ts';
import { openS3, type ObjectAttributes, type ObjectStoreClient } from '../../../src/components/objectstore/object-client.ts';
import { findServiceContainer, requireRunning } from '../../../src/docker/compose-services.ts';
import { OperationError, StackError } from '../../../src/errors.ts';
import { fingerprintTree } from '../fingerprint/files.ts';
import { docker, say } from '../runtime.ts';
import { CASSANDRA_NODES, KEYSPACES, type WireContext, type WireService } from './context.ts';

const DATACENTER = 'datacenter1';
const MIB = 1024 * 1024;

export async function serviceAddress(ctx: WireContext, service: WireService): Promise<string> {
  const container = await findServiceContainer(docker, ctx.project, service);
  requireRunning(container);
  return docker.containerAddress(container.id);
}

export async function execIn(ctx: WireContext, service: WireService, argv: readonly string[]): Promise<string> {
  const container = await findServiceContainer(docker, ctx.project, service);
  requireRunning(container);
  const result = await docker.exec(container.id, argv);
  if (result.exitCode !== 0) throw new OperationError(`${argv[0]} in ${service} exited ${result.exitCode}: ${(result.stderr || result.stdout).trim().split('\n').pop() ?? ''}`);
  return result.stdout;
}

async function nodeAddresses(ctx: WireContext): Promise<string[]> {
  return Promise.all(CASSANDRA_NODES.map((n) => serviceAddress(ctx, n)));
}

/** A driver client over both nodes, writing and reading at consistency ALL. */
export async function withCluster<T>(ctx: WireContext, work: (client: cassandra.Client) => Promise<T>): Promise<T> {
  const client = new cassandra.Client({
    contactPoints: (await nodeAddresses(ctx)).map((a) => `${a}:9042`),
    localDataCenter: DATACENTER,
    queryOptions: { consistency: cassandra.types.consistencies.all, prepare: true },
    socketOptions: { connectTimeout: 10_000, readTimeout: 120_000 },
  });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

export async function withS3<T>(ctx: WireContext, work: (client: ObjectStoreClient) => Promise<T>): Promise<T> {
  const client = openS3({
    endpoint: `http://${await serviceAddress(ctx, 'objectstore')}:9000`,
    region: ctx.env.S3_REGION!, accessKey: ctx.env.S3_ACCESS_KEY!, secretKey: ctx.env.S3_SECRET_KEY!,
  });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Both nodes Up/Normal in one ring, CQL on each, the object store answering; brig ready when asked. */
export async function waitForWire(ctx: WireContext, timeoutSeconds: number, withBrig: boolean): Promise<void> {
  const started = Date.now();
  const checks: Array<[string, () => Promise<void>]> = [
    ['cassandra ring (2 nodes UN)', async () => {
      const out = await execIn(ctx, 'cassandra1', ['nodetool', 'status']);
      const up = out.split('\n').filter((l) => l.startsWith('UN ')).length;
      if (up !== CASSANDRA_NODES.length) throw new Error(`${up} of ${CASSANDRA_NODES.length} nodes UN`);
    }],
    ['CQL on both nodes', async () => {
      for (const address of await nodeAddresses(ctx)) {
        const session = await openCql([address], 9042, DATACENTER, { user: undefined, password: undefined }, address);
        await session.close();
      }
    }],
    ['object store', () => withS3(ctx, async (c) => void (await c.listBuckets()))],
    ...(withBrig ? [['brig', async () => void (await execIn(ctx, 'brig', ['test', '-e', '/tmp/brig-ready']))] as [string, () => Promise<void>]] : []),
  ];
  for (const [name, check] of checks) {
    for (;;) {
      try {
        await check();
        break;
      } catch (error) {
        if ((Date.now() - started) / 1000 > timeoutSeconds) {
          throw new StackError(`${name} not ready within ${timeoutSeconds} s: ${(error as Error).message.split('\n')[0]}`, { hint: `see docker logs of the ${ctx.project} containers` });
        }
        await sleep(2000);
      }
    }
  }
}

const SCHEMA = [
  ...KEYSPACES.map((k) => `CREATE KEYSPACE IF NOT EXISTS ${k} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 2}`),
  'CREATE TABLE IF NOT EXISTS brig.user (id uuid PRIMARY KEY, name text, email text, asset_key text, created timestamp)',
  'CREATE TABLE IF NOT EXISTS brig.user_handle (handle text PRIMARY KEY, user uuid)',
  'CREATE TABLE IF NOT EXISTS galley.conversation (conv uuid PRIMARY KEY, name text, creator uuid, members set<uuid>)',
  'CREATE TABLE IF NOT EXISTS gundeck.notifications (user uuid, id timeuuid, payload blob, PRIMARY KEY (user, id))',
  'CREATE TABLE IF NOT EXISTS spar.idp (idp uuid PRIMARY KEY, issuer text, metadata text)',
];

/** Keyspaces with replication factor 2, tables, and the asset bucket: what Wire's schema jobs and MinIO set-up make. */
export async function ensureWireSchema(ctx: WireContext): Promise<void> {
  await withCluster(ctx, async (client) => {
    for (const statement of SCHEMA) await client.execute(statement);
  });
  await withS3(ctx, async (s3) => {
    if (!(await s3.listBuckets()).includes(ctx.bucket)) await s3.createBucket(ctx.bucket);
  });
}

/** Objects whose keys or sizes are awkward, as real assets can be. */
function awkwardObjects(): Array<{ key: string; data: Buffer; attributes: ObjectAttributes }> {
  const plain = (contentType: string, metadata: Record<string, string> = {}, tags: Record<string, string> = {}) => ({ contentType, metadata, tags });
  return [
    { key: 'odd/with space and+plus.txt', data: Buffer.from('spaces'), attributes: plain('text/plain', { note: 'spaces' }, { kind: 'odd' }) },
    { key: 'odd/ünïcødé/ファイル.bin', data: randomBytes(300), attributes: plain('application/octet-stream', { lang: 'ja' }) },
    { key: 'odd/dots/../escape', data: Buffer.from('not a path'), attributes: plain('application/json') },
    { key: `odd/long/${Array.from({ length: 8 }, (_, i) => `${i}${'x'.repeat(99)}`).join('/')}`, data: Buffer.from('long'), attributes: plain('text/plain') },
    { key: 'odd/empty', data: Buffer.alloc(0), attributes: plain('application/octet-stream') },
    { key: 'odd/large.bin', data: randomBytes(10 * MIB + 4321), attributes: plain('application/octet-stream', { size: 'large' }, { tier: 'big' }) },
  ];
}

async function putWhole(s3: ObjectStoreClient, bucket: string, key: string, data: Buffer, attributes: ObjectAttributes): Promise<void> {
  await s3.putObject(bucket, key, Readable.from(data.length ? [data] : []), data.length, attributes);
}

/** scale × (40 users with avatars and handles, 10 conversations, 3 notifications per user, 2 IdPs), plus the awkward objects once. */
export async function seedWire(ctx: WireContext, scale: number): Promise<void> {
  await ensureWireSchema(ctx);
  const users = 40 * scale;
  const ids: string[] = [];
  await withS3(ctx, async (s3) => {
    for (let i = 0; i < users; i++) {
      const id = randomUUID();
      ids.push(id);
      await putWhole(s3, ctx.bucket, `users/${id}/avatar`, randomBytes(512 + (i % 7) * 300), { contentType: 'image/png', metadata: { user: id }, tags: { kind: 'avatar' } });
    }
    const skipped: string[] = [];
    for (const o of awkwardObjects()) {
      try {
        await putWhole(s3, ctx.bucket, o.key, o.data, o.attributes);
      } catch (error) {
        skipped.push(`${JSON.stringify(o.key.slice(0, 40))} (${(error as Error).message.split(':').slice(-1)[0]?.trim()})`);
      }
    }
    if (skipped.length) say(`the object store refused ${skipped.join(', ')}`);
  });
  await withCluster(ctx, async (client) => {
    for (const [i, id] of ids.entries()) {
      await client.execute('INSERT INTO brig.user (id, name, email, asset_key, created) VALUES (?, ?, ?, ?, ?)', [id, `seed-${i}`, `seed-${i}@example.com`, `users/${id}/avatar`, new Date(1_700_000_000_000 + i * 1000)]);
      await client.execute('INSERT INTO brig.user_handle (handle, user) VALUES (?, ?)', [`handle-${id.slice(0, 8)}`, id]);
      for (let n = 0; n < 3; n++) await client.execute('INSERT INTO gundeck.notifications (user, id, payload) VALUES (?, now(), ?)', [id, randomBytes(64)]);
    }
    for (let c = 0; c < 10 * scale; c++) {
      await client.execute('INSERT INTO galley.conversation (conv, name, creator, members) VALUES (?, ?, ?, ?)', [randomUUID(), `conv-${c}`, ids[c % ids.length], ids.slice(c % ids.length, (c % ids.length) + 3)]);
    }
    for (let p = 0; p < 2; p++) await client.execute('INSERT INTO spar.idp (idp, issuer, metadata) VALUES (?, ?, ?)', [randomUUID(), `https://idp${p}.example.com`, '<EntityDescriptor/>']);
  });
  say(`seeded ${users} users with assets, ${10 * scale} conversations, ${users * 3} notifications`);
}

/** Every table read at consistency ALL, every object hashed with its attributes, the installation folder listed. */
export async function computeWireFingerprint(ctx: WireContext): Promise<Record<string, unknown>> {
  const session = await openCql(await nodeAddresses(ctx), 9042, DATACENTER, { user: undefined, password: undefined }, 'cassandra1, cassandra2');
  const tables: Record<string, unknown> = {};
  const replication: Record<string, string> = {};
  try {
    for (const keyspace of KEYSPACES) {
      const ks = await session.execute('SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace]);
      const r = ks[0]?.get('replication') as Record<string, string> | undefined;
      replication[keyspace] = r?.replication_factor ?? 'missing';
      for (const row of await session.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [keyspace])) {
        const table = String(row.get('table_name'));
        tables[`${keyspace}.${table}`] = await tableFingerprint(session, keyspace, table);
      }
    }
  } finally {
    await session.close();
  }
  const objects = await withS3(ctx, async (s3) => {
    const out: Record<string, unknown> = {};
    for (const bucket of await s3.listBuckets()) {
      out[bucket] = bucketFingerprint(await liveEntries(s3, bucket), { name: bucket, versioning: await s3.versioning(bucket), policy: await s3.policy(bucket) });
    }
    return out;
  });
  return { cassandra: { replication, tables }, objects, installation: await fingerprintTree(ctx.installation) };
}

export interface WireConsistency {
  users: number;
  usersWithoutAsset: number;
  assets: number;
}

/** Users whose row names an asset the object store lacks (brig writes the asset first, so a consistent backup has none). */
export async function readWireConsistency(ctx: WireContext): Promise<WireConsistency> {
  const keys = await withS3(ctx, async (s3) => {
    const set = new Set<string>();
    for await (const o of s3.listKeys(ctx.bucket)) set.add(o.key);
    return set;
  });
  let users = 0;
  let usersWithoutAsset = 0;
  await withCluster(ctx, async (client) => {
    for await (const row of client.stream('SELECT asset_key FROM brig.user', [], { prepare: true }) as unknown as AsyncIterable<cassandra.types.Row>) {
      users++;
      if (!keys.has(String(row.get('asset_key')))) usersWithoutAsset++;
    }
  });
  return { users, usersWithoutAsset, assets: [...keys].filter((k) => k.startsWith('users/')).length };
}
