// Cold backups and in-place restores stop the services that write (every
// running service of the project except the data services) and start them
// again afterwards, whatever happened in between.
import type { ContainerInfo, DockerClient } from '../docker/types.ts';
import type { StoppedService } from './manifest.ts';

export interface StoppedWriters {
  containers: ContainerInfo[];
  stoppedAt: number;
}

export function writerContainers(containers: readonly ContainerInfo[], dataServices: readonly string[]): ContainerInfo[] {
  return containers.filter((c) => c.state === 'running' && !dataServices.includes(c.service));
}

export async function stopWriters(docker: DockerClient, writers: ContainerInfo[]): Promise<StoppedWriters> {
  const stoppedAt = Date.now();
  await Promise.all(writers.map((c) => docker.stopContainer(c.id)));
  return { containers: writers, stoppedAt };
}

/** Starts every stopped writer; returns how long each was down. Tries all, then reports the first failure. */
export async function startWriters(docker: DockerClient, stopped: StoppedWriters): Promise<StoppedService[]> {
  const results = await Promise.allSettled(stopped.containers.map((c) => docker.startContainer(c.id)));
  const now = Date.now();
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return stopped.containers.map((c) => ({ service: c.service, container: c.name, seconds: Math.round((now - stopped.stoppedAt) / 100) / 10 }));
}
