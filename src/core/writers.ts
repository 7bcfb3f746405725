// Cold backups and in-place restores stop the services that write (every
// running service of the project except the data services) and start them
// again afterwards, whatever happened in between. A run that is killed
// cannot start them again itself, so the list is noted (in the run's lock)
// before anything stops, and the next run starts what a dead run stopped.
import type { ContainerInfo, DockerClient } from '../docker/types.ts';
import type { LockHolder, StoppedContainer } from './lock.ts';
import type { StoppedService } from './manifest.ts';

export interface StoppedWriters {
  containers: ContainerInfo[];
  stoppedAt: number;
}

/** Where a run notes what it stopped (the lock), so that a later run can undo it. */
export type NoteStopped = (stopped: readonly StoppedContainer[]) => Promise<void>;

export function writerContainers(containers: readonly ContainerInfo[], dataServices: readonly string[]): ContainerInfo[] {
  return containers.filter((c) => c.state === 'running' && !dataServices.includes(c.service));
}

export async function stopWriters(docker: DockerClient, writers: ContainerInfo[], note?: NoteStopped): Promise<StoppedWriters> {
  await note?.(writers.map((c) => ({ id: c.id, name: c.name, service: c.service })));
  const stoppedAt = Date.now();
  await Promise.all(writers.map((c) => docker.stopContainer(c.id)));
  return { containers: writers, stoppedAt };
}

/** Starts every stopped writer; returns how long each was down. Tries all, then reports the first failure. */
export async function startWriters(docker: DockerClient, stopped: StoppedWriters, note?: NoteStopped): Promise<StoppedService[]> {
  await startAll(docker, stopped.containers);
  const now = Date.now();
  // On a full disk the note cannot be rewritten; the stale one names only
  // containers that run now, which a later run leaves alone, and the run's
  // own error (the full disk) must not be hidden behind this one.
  await note?.([]).catch(() => undefined);
  return stopped.containers.map((c) => ({ service: c.service, container: c.name, seconds: Math.round((now - stopped.stoppedAt) / 100) / 10 }));
}

/**
 * Starts the containers a dead run noted as stopped and that still exist
 * and do not run (the operator may have started or removed some since).
 * Returns the names it started.
 */
export async function startLeftStopped(docker: DockerClient, dead: LockHolder, project: readonly ContainerInfo[]): Promise<string[]> {
  const byId = new Map(project.map((c) => [c.id, c]));
  const toStart = (dead.stopped ?? []).map((s) => byId.get(s.id)).filter((c): c is ContainerInfo => c !== undefined && c.state !== 'running');
  await startAll(docker, toStart);
  return toStart.map((c) => c.name);
}

/** Starts every container, all at once; tries them all, then reports the first failure. */
async function startAll(docker: DockerClient, containers: readonly ContainerInfo[]): Promise<void> {
  const results = await Promise.allSettled(containers.map((c) => docker.startContainer(c.id)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
