// The nodes of one Cassandra instance: their containers, the folder each
// keeps its data in (a named volume or a bind mount, found from the running
// container), and a CQL session over all of them.
import { relative } from 'node:path';
import { findServiceContainer, requireRunning } from '../../docker/compose-services.ts';
import type { ContainerInfo } from '../../docker/types.ts';
import { PreflightError } from '../../errors.ts';
import type { RunContext } from '../component.ts';
import type { TreeSource } from '../tree/tree-copy.ts';
import type { CassandraSettings } from './cassandra-kind.ts';
import { openCql, type CqlSession } from './cql.ts';
import { dataCenter } from './nodetool.ts';

export type CassandraContext<C extends RunContext = RunContext> = C & { cassandra: CassandraSettings };

export interface CassandraNode {
  service: string;
  container: ContainerInfo;
  /** The mount that holds the data folder: volume name or host path, and where it is mounted. */
  mountSource: string;
  mountTarget: string;
  /** The data folder relative to the mount ("" when the mount is the data folder). */
  dataSubdir: string;
}

export async function findNodes(ctx: CassandraContext): Promise<CassandraNode[]> {
  const nodes: CassandraNode[] = [];
  for (const service of ctx.cassandra.services) {
    const container = await findServiceContainer(ctx.docker, ctx.config.project, service);
    requireRunning(container);
    const info = await ctx.docker.inspectContainer(container.id);
    const dataDir = ctx.cassandra.dataDir;
    const mount = (info.Mounts ?? [])
      .filter((m) => dataDir === m.Destination || dataDir.startsWith(`${m.Destination}/`))
      .sort((a, b) => b.Destination.length - a.Destination.length)[0];
    if (!mount) {
      throw new PreflightError(`the ${service} container keeps ${dataDir} in its own layer, not in a volume or a bind mount`, {
        hint: `mount a volume or a host folder at ${dataDir} (or a parent of it) in the ${service} service, so its data survives the container`,
      });
    }
    nodes.push({
      service,
      container,
      mountSource: mount.Type === 'volume' ? mount.Name! : mount.Source,
      mountTarget: mount.Destination,
      dataSubdir: relative(mount.Destination, dataDir),
    });
  }
  return nodes;
}

/** A folder below a node's data mount, as a helper sees it. */
export function nodeTree(node: CassandraNode, subdir: string, entries?: string[]): TreeSource {
  return { source: node.mountSource, label: `cassandra ${node.service} ${subdir || '/'}`, subdir, ...(entries ? { entries } : {}) };
}

export async function connectNodes(ctx: CassandraContext, nodes: readonly CassandraNode[]): Promise<CqlSession> {
  const addresses = await Promise.all(nodes.map((n) => ctx.docker.containerAddress(n.container.id)));
  const dc = await dataCenter(ctx.docker, nodes[0]!.container);
  const { user, password, port } = ctx.cassandra;
  return openCql(addresses, port, dc, { user, password }, `the ${nodes.map((n) => n.service).join(', ')} service(s)`);
}
