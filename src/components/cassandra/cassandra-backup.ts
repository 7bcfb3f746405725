// Cassandra backup. One snapshot tag is taken on every node at the same
// moment while the writers are stopped (a snapshot flushes memtables and
// hard-links the SSTables, so it is instant); the schema is saved with
// DESCRIBE, since a snapshot holds no keyspace definition; each node's
// snapshot folders are streamed out through a helper; the tag is cleared
// afterwards, also when the run fails or is interrupted, because snapshot
// hard links keep old SSTables on disk forever.
import { Readable } from 'node:stream';
import { type BackupContext, type BackupFacts, type BackupTask, type ComponentRecord, type ContentFingerprint, frozenIn } from '../component.ts';
import { PreflightError } from '../../errors.ts';
import { countSource, stageTree } from '../tree/tree-copy.ts';
import { connectNodes, findNodes, nodeTree, type CassandraContext, type CassandraNode } from './cassandra-nodes.ts';
import { describeKeyspace, keyspaceExists, tableFingerprint, tablesOf, type CqlSession, type SchemaStatement } from './cql.ts';
import { nodetool, releaseVersion, snapshotTags } from './nodetool.ts';

export const TAG_PREFIX = 'hossadm-';

export interface SavedTable {
  keyspace: string;
  table: string;
  /** The table's folder name on the nodes at backup time (<table>-<id without dashes>). */
  dir: string;
}

export const schemaMember = (id: string) => `${id}/schema.json`;
export const nodeMember = (id: string, service: string) => `${id}/${service}.tar`;

async function savedTables(session: CqlSession, keyspaces: readonly string[]): Promise<SavedTable[]> {
  const tables: SavedTable[] = [];
  for (const keyspace of keyspaces) {
    for (const { table, id } of await tablesOf(session, keyspace)) tables.push({ keyspace, table, dir: `${table}-${id.replace(/-/g, '')}` });
  }
  return tables;
}

export async function keyspacesFingerprint(session: CqlSession, tables: readonly SavedTable[]): Promise<ContentFingerprint> {
  const fingerprint: ContentFingerprint = {};
  for (const { keyspace, table } of tables) fingerprint[`${keyspace}.${table}`] = await tableFingerprint(session, keyspace, table);
  return fingerprint;
}

export async function preflightCassandra(ctx: CassandraContext<BackupContext>): Promise<BackupFacts> {
  const nodes = await findNodes(ctx);
  const versions = await Promise.all(nodes.map((n) => releaseVersion(ctx.docker, n.container)));
  if (new Set(versions).size > 1) {
    throw new PreflightError(`the Cassandra nodes run different versions (${nodes.map((n, i) => `${n.service} ${versions[i]}`).join(', ')})`, { hint: 'finish the rolling upgrade before taking a backup' });
  }
  const session = await connectNodes(ctx, nodes);
  try {
    for (const keyspace of ctx.cassandra.keyspaces) {
      if (!(await keyspaceExists(session, keyspace))) {
        throw new PreflightError(`keyspace ${keyspace} does not exist in Cassandra (${ctx.cassandra.services.join(', ')})`, { hint: 'check the keyspaces of the Cassandra component in the stack profile' });
      }
    }
  } finally {
    await session.close();
  }
  // A killed run could not clear its tag; its hard links would pin old SSTables on disk for good.
  for (const node of nodes) {
    for (const tag of await snapshotTags(ctx.docker, node.container, TAG_PREFIX)) {
      await nodetool(ctx.docker, node.container, ['clearsnapshot', '-t', tag, ...ctx.cassandra.keyspaces]);
      ctx.reporter.warn(`cleared the snapshot ${tag} an interrupted run left on ${node.service}`);
    }
  }
  let estimatedBytes = 0;
  for (const node of nodes) estimatedBytes += (await countSource(ctx, nodeTree(node, node.dataSubdir, ctx.cassandra.keyspaces))).bytes;
  return { versions: { cassandra: versions[0]! }, estimatedBytes };
}

export function cassandraBackupTask(ctx: CassandraContext<BackupContext>): BackupTask {
  const { id, keyspaces } = ctx.cassandra;
  const tag = `${TAG_PREFIX}${ctx.runId}`;
  let nodes: CassandraNode[] = [];
  let session: CqlSession | undefined;
  let tables: SavedTable[] = [];
  let fingerprint: ContentFingerprint | undefined;
  let taken = false;

  const clear = async () => {
    if (taken) {
      await Promise.all(nodes.map((n) => nodetool(ctx.docker, n.container, ['clearsnapshot', '-t', tag, ...keyspaces])));
      taken = false;
    }
  };
  const close = async () => {
    await session?.close().catch(() => undefined);
    session = undefined;
  };

  return {
    async prepare() {
      nodes = await findNodes(ctx);
      session = await connectNodes(ctx, nodes);
      tables = await savedTables(session, keyspaces);
    },
    ...frozenIn([{ label: `${id} snapshot tag`, mounts: [], run: async (allWritersStopped) => {
      // Every node at the same moment, as one point in time for the cluster.
      taken = true;
      await Promise.all(nodes.map((n) => nodetool(ctx.docker, n.container, ['snapshot', '-t', tag, ...keyspaces])));
      ctx.reporter.info(`  ${id}: snapshot ${tag} taken on ${nodes.map((n) => n.service).join(', ')}`);
      // With every writer stopped the live tables equal the snapshot: count them now. Otherwise (hot, or writers running) later, as live.
      if (ctx.mode === 'cold' && allWritersStopped) {
        fingerprint = await ctx.reporter.step(`${id} fingerprint`, () => keyspacesFingerprint(session!, tables), (f) => `${Object.keys(f).length} tables`);
      }
    } }]),
    async finish(): Promise<ComponentRecord> {
      try {
        const schema: Record<string, SchemaStatement[]> = {};
        for (const keyspace of keyspaces) schema[keyspace] = await describeKeyspace(session!, keyspace);
        await ctx.staging.add(id, schemaMember(id), Readable.from([JSON.stringify({ keyspaces: schema }, null, 1)]));
        for (const node of nodes) {
          const entries = tables.map((t) => `${t.keyspace}/${t.dir}/snapshots/${tag}`);
          await stageTree(ctx, id, nodeMember(id, node.service), nodeTree(node, node.dataSubdir, entries));
        }
        const live = fingerprint === undefined;
        fingerprint ??= await keyspacesFingerprint(session!, tables);
        await clear();
        return {
          details: { keyspaces, tag, nodes: nodes.map((n) => n.service), tables, schema: schemaMember(id) },
          fingerprint,
          live,
        };
      } finally {
        await close();
      }
    },
    async abort() {
      await clear().catch((e) => ctx.reporter.warn(`could not clear the snapshot ${tag}: ${(e as Error).message}`));
      await close();
    },
  };
}
