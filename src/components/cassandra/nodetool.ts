// nodetool in each Cassandra container through the engine's exec: JMX is
// local to the container and needs no password, so nothing secret travels.
import type { ContainerInfo, DockerClient } from '../../docker/types.ts';
import { OperationError } from '../../errors.ts';

export async function nodetool(docker: DockerClient, node: ContainerInfo, args: readonly string[]): Promise<string> {
  const result = await docker.exec(node.id, ['nodetool', ...args]);
  if (result.exitCode !== 0) {
    throw new OperationError(`nodetool ${args.join(' ')} failed on ${node.name} with exit code ${result.exitCode}`, {
      details: (result.stderr || result.stdout).trim(),
      hint: `check "docker logs ${node.name}" and that nodetool answers there (nodetool status)`,
    });
  }
  return result.stdout;
}

/** "ReleaseVersion: 5.0.6" */
export async function releaseVersion(docker: DockerClient, node: ContainerInfo): Promise<string> {
  const out = await nodetool(docker, node, ['version']);
  const match = /ReleaseVersion:\s*(\S+)/.exec(out);
  if (!match) throw new OperationError(`nodetool version on ${node.name} printed no release version`, { details: out.trim() });
  return match[1]!;
}

/** "Data Center            : datacenter1" in nodetool info. */
export async function dataCenter(docker: DockerClient, node: ContainerInfo): Promise<string> {
  const out = await nodetool(docker, node, ['info']);
  return /^Data Center\s*:\s*(\S+)/m.exec(out)?.[1] ?? 'datacenter1';
}

/** Snapshot tags on a node that start with `prefix` (left by a run that was killed before it cleared them). */
export async function snapshotTags(docker: DockerClient, node: ContainerInfo, prefix: string): Promise<string[]> {
  const out = await nodetool(docker, node, ['listsnapshots']);
  const tags = new Set<string>();
  for (const line of out.split('\n')) {
    const first = line.trim().split(/\s+/)[0] ?? '';
    if (first.startsWith(prefix)) tags.add(first);
  }
  return [...tags];
}

export function majorOf(version: string): number {
  return Number(version.split('.')[0]);
}
