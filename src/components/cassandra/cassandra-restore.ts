// Cassandra restore. Each node's archived SSTables are loaded into the node
// of the same service with `nodetool import --copy-data`, after the schema
// is recreated from the archive (a fresh cluster) or the keyspace's tables
// are emptied (in place: TRUNCATE keeps the tables and their grants; tables
// the archive does not have are dropped, missing ones created).
//
// Why import and not sstableloader: import runs over the node's local JMX,
// which needs no password, while sstableloader takes the CQL password on its
// command line, where every process on the host can read it. Import checks
// that the node owns the tokens of what it loads, so it fits a fresh cluster
// of the same size whose every node holds every row (one node, or as many
// nodes as the replication factor); --copy-data keeps the extracted files,
// so a failed import leaves the only local copy in place.
import { createWriteStream } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { text } from 'node:stream/consumers';
import { ensureDir, remove } from 'fs-extra/esm';
import { removeTree, tarTreeIn } from '../../docker/tree-helper.ts';
import { ArchiveError, OperationError, PreflightError } from '../../errors.ts';
import type { RestoreContext, RestoreTask } from '../component.ts';
import { TREE, treeHelper } from '../tree/tree-copy.ts';
import { keyspacesFingerprint, nodeMember, schemaMember, type SavedTable } from './cassandra-backup.ts';
import { connectNodes, findNodes, type CassandraContext, type CassandraNode } from './cassandra-nodes.ts';
import { keyspaceExists, quoteCql, tablesOf, type CqlSession, type SchemaStatement } from './cql.ts';
import { majorOf, nodetool, releaseVersion } from './nodetool.ts';

interface Details {
  keyspaces?: string[];
  tag?: string;
  nodes?: string[];
  tables?: SavedTable[];
}

const SAFE = /^[A-Za-z0-9_-]+$/;

export function cassandraRestoreTask(ctx: CassandraContext<RestoreContext>): RestoreTask {
  const { id } = ctx.cassandra;
  const details = ctx.record.details as Details;
  const keyspaces = details.keyspaces ?? [];
  const tables = details.tables ?? [];
  const archivedNodes = details.nodes ?? [];
  const tag = details.tag ?? '';
  // Node files wait here until the cluster runs (on a fresh host it does not yet).
  const hostScratch = join(ctx.config.backupRoot, `.restore-${id}`);
  const nodeScratch = `hossadm-restore-${id}`;
  let schema: Record<string, SchemaStatement[]> | undefined;

  const checkVersion = async (nodes: CassandraNode[]) => {
    const live = await releaseVersion(ctx.docker, nodes[0]!.container);
    const saved = ctx.record.versions?.cassandra;
    if (saved && majorOf(saved) !== majorOf(live)) {
      const message = `the archive's SSTables come from Cassandra ${saved}, the running cluster is ${live}`;
      if (!ctx.forceVersion) throw new PreflightError(message, { hint: 'run the Cassandra major version the backup was taken with, or add --force-version' });
      ctx.reporter.warn(`${message}; going on because of --force-version`);
    }
  };

  const waitForCql = async (): Promise<{ nodes: CassandraNode[]; session: CqlSession }> => {
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      try {
        const nodes = await findNodes(ctx);
        return { nodes, session: await connectNodes(ctx, nodes) };
      } catch (error) {
        if (Date.now() > deadline || ctx.signal.aborted) throw error;
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };

  const applySchema = async (session: CqlSession) => {
    for (const keyspace of keyspaces) {
      const statements = schema?.[keyspace] ?? [];
      if (!(await keyspaceExists(session, keyspace))) {
        for (const s of statements) await session.execute(s.statement);
        continue;
      }
      const live = new Set((await tablesOf(session, keyspace)).map((t) => t.table));
      const archived = statements.filter((s) => s.type === 'table');
      const liveTypes = new Set((await session.execute('SELECT type_name FROM system_schema.types WHERE keyspace_name = ?', [keyspace])).map((r) => String(r.get('type_name'))));
      for (const s of statements.filter((s) => s.type === 'type' && !liveTypes.has(s.name))) await session.execute(s.statement);
      for (const table of live) {
        if (!archived.some((s) => s.name === table)) await session.execute(`DROP TABLE ${quoteCql(keyspace)}.${quoteCql(table)}`);
      }
      for (const s of archived) {
        await session.execute(live.has(s.name) ? `TRUNCATE ${quoteCql(keyspace)}.${quoteCql(s.name)}` : s.statement);
      }
      const liveIndexes = new Set((await session.execute('SELECT index_name FROM system_schema.indexes WHERE keyspace_name = ?', [keyspace])).map((r) => String(r.get('index_name'))));
      for (const s of statements.filter((s) => s.type === 'index' && !liveIndexes.has(s.name))) await session.execute(s.statement);
    }
  };

  const importNode = async (node: CassandraNode) => {
    // Beside the data folder when the mount holds more than it, so Cassandra never sees it among its keyspaces.
    const scratchOnNode = node.dataSubdir ? posix.join(node.dataSubdir, '..', nodeScratch) : nodeScratch;
    const mounts = [{ source: node.mountSource, target: TREE }, { source: hostScratch, target: '/in', readOnly: true }];
    await ctx.reporter.step(`${id} ${node.service}: place SSTables`, () => tarTreeIn(treeHelper(ctx, `restore cassandra ${node.service}`, mounts), `${TREE}/${scratchOnNode}`, `/in/${node.service}.tar`));
    try {
      const base = `${node.mountTarget}/${scratchOnNode}`;
      for (const t of tables) {
        await ctx.reporter.step(`${id} ${node.service}: import ${t.keyspace}.${t.table}`, () =>
          nodetool(ctx.docker, node.container, ['import', '--copy-data', t.keyspace, t.table, `${base}/${t.keyspace}/${t.dir}/snapshots/${tag}`]));
      }
    } finally {
      await removeTree(treeHelper(ctx, `remove cassandra scratch on ${node.service}`, [{ source: node.mountSource, target: TREE }]), `${TREE}/${scratchOnNode}`).catch(() => undefined);
    }
  };

  return {
    async describe() {
      const what = `${keyspaces.join(', ')} (${tables.length} tables) on ${archivedNodes.join(', ')}`;
      return ctx.situation === 'fresh'
        ? [`${id}: schema and SSTables of ${what} loaded with nodetool import once the cluster runs`]
        : [`${id}: ${what} replaced: tables emptied (TRUNCATE), tables the archive lacks dropped, then the archived SSTables imported`];
    },

    async preflight() {
      if (!SAFE.test(tag) || ![...keyspaces, ...tables.flatMap((t) => [t.keyspace, t.table, t.dir])].every((n) => SAFE.test(n))) {
        throw new ArchiveError(`the archive's ${id} record names a snapshot, keyspace or table that is not a plain name`, { member: schemaMember(id) });
      }
      const expected = [...ctx.cassandra.services].sort().join(', ');
      if ([...archivedNodes].sort().join(', ') !== expected) {
        throw new PreflightError(`the archive holds Cassandra nodes ${archivedNodes.join(', ')} but the stack's ${id} has ${expected}`, {
          hint: 'restore into a cluster of the same size and service names as the one backed up',
        });
      }
      if (ctx.situation === 'in-place') {
        const nodes = await findNodes(ctx);
        await checkVersion(nodes);
        await (await connectNodes(ctx, nodes)).close();
      }
    },

    async receive(member, input) {
      if (member === schemaMember(id)) {
        try {
          schema = (JSON.parse(await text(input)) as { keyspaces: Record<string, SchemaStatement[]> }).keyspaces;
        } catch (error) {
          throw new ArchiveError(`${member} is not the schema hossadm writes`, { member, cause: error });
        }
        return;
      }
      const service = archivedNodes.find((s) => member === nodeMember(id, s));
      if (!service) throw new ArchiveError(`archive member ${member} names no Cassandra node of the manifest`, { member });
      await ensureDir(hostScratch, { mode: 0o700 });
      await pipeline(input, createWriteStream(join(hostScratch, `${service}.tar`), { mode: 0o600 }));
    },

    async load() {
      if (!schema) throw new ArchiveError(`the archive has no ${schemaMember(id)}`, { member: schemaMember(id) });
      const { nodes, session } = await ctx.reporter.step(`${id} cluster answering`, waitForCql);
      try {
        // In place this was checked before anything changed; a fresh cluster answers only now.
        if (ctx.situation === 'fresh') await checkVersion(nodes);
        await ctx.reporter.step(`${id} schema`, () => applySchema(session));
        for (const node of nodes) await importNode(node);
      } finally {
        await session.close();
        await remove(hostScratch);
      }
      if (nodes.length === 0) throw new OperationError(`no Cassandra node of ${id} runs`);
    },

    async fingerprint() {
      const nodes = await findNodes(ctx);
      const session = await connectNodes(ctx, nodes);
      try {
        return await keyspacesFingerprint(session, tables);
      } finally {
        await session.close();
      }
    },
  };
}
