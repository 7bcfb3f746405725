// The freeze phase of a cold backup as a list of steps. Freezing per stack,
// every task's freeze work runs in one window that stops every writer.
// Freezing per service, each task's units are grouped by the running writers
// that mount the data they read: a unit no writer mounts runs with every
// writer running; units whose writers overlap share one window, which stops
// just those writers and starts them again before the next step. A window
// runs where its last unit stands in the profile's order, so work outside
// windows keeps its place before the windows of instances listed after it.
// A task that offers no units is run in a window of every writer.
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { BackupTask, ConsistencyMode, FreezeMode, FreezeUnit } from '../components/component.ts';
import type { ContainerInfo, ContainerMount, DockerClient } from '../docker/types.ts';
import type { FreezeWindow, StoppedService } from './manifest.ts';
import { startWriters, stopWriters, type NoteStopped, type StoppedWriters } from './writers.ts';

export interface FreezeStep {
  units: { label: string; run: () => Promise<void> }[];
  /** A window stops its owners (possibly none) while its units run; other steps stop nothing. */
  window: boolean;
  owners: ContainerInfo[];
}

/** The writers' mounts, read once per run (per service freezing only). */
export async function writerMounts(docker: Pick<DockerClient, 'containerMounts'>, writers: readonly ContainerInfo[]): Promise<Map<string, ContainerMount[]>> {
  const mounts = new Map<string, ContainerMount[]>();
  for (const writer of writers) mounts.set(writer.id, await docker.containerMounts(writer.id));
  return mounts;
}

/** A unit's host paths also under their real names: the engine reports a bind's path as compose gave it. */
async function withRealPaths(mounts: readonly string[]): Promise<string[]> {
  const all = new Set(mounts);
  for (const m of mounts) if (isAbsolute(m)) all.add(await realpath(m).catch(() => m));
  return [...all];
}

const within = (inner: string, outer: string) => {
  const path = relative(resolve(outer), resolve(inner));
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
};

/** A volume by its engine name; a host path when one of the two paths holds the other. */
export function mountTouches(wanted: string, mount: ContainerMount): boolean {
  if (!isAbsolute(wanted)) return mount.type === 'volume' && mount.name === wanted;
  return mount.type === 'bind' && (within(wanted, mount.source) || within(mount.source, wanted));
}

interface Placed {
  label: string;
  run: () => Promise<void>;
  owners: ContainerInfo[];
}

/** Groups placed units whose owners overlap; each group is listed at its last unit's place. */
function groupByOwners(placed: readonly Placed[]): FreezeStep[] {
  const group = placed.map((_, i) => i);
  const root = (i: number): number => (group[i] === i ? i : (group[i] = root(group[i]!)));
  for (let i = 0; i < placed.length; i++) {
    for (let j = 0; j < i; j++) {
      if (placed[i]!.owners.some((o) => placed[j]!.owners.some((p) => p.id === o.id))) group[root(i)] = root(j);
    }
  }
  const last = new Map<number, number>();
  for (const [i, p] of placed.entries()) if (p.owners.length > 0) last.set(root(i), i);
  const steps: FreezeStep[] = [];
  for (const [i, p] of placed.entries()) {
    if (p.owners.length === 0) {
      steps.push({ units: [{ label: p.label, run: p.run }], window: false, owners: [] });
      continue;
    }
    if (last.get(root(i)) !== i) continue;
    const members = placed.filter((m, j) => m.owners.length > 0 && root(j) === root(i));
    const owners = [...new Map(members.flatMap((m) => m.owners).map((o) => [o.id, o])).values()];
    steps.push({ units: members.map(({ label, run }) => ({ label, run })), window: true, owners });
  }
  return steps;
}

/**
 * The steps of the freeze phase. `labels` name each task (its instance id);
 * `mounts` holds every writer's mounts (needed for per-service only).
 */
export async function planFreeze(
  tasks: readonly BackupTask[],
  labels: readonly string[],
  writers: readonly ContainerInfo[],
  mounts: ReadonlyMap<string, readonly ContainerMount[]>,
  how: ConsistencyMode | FreezeMode,
): Promise<FreezeStep[]> {
  const whole = tasks.flatMap((task, i) => (task.freeze ? [{ label: labels[i]!, run: () => task.freeze!() }] : []));
  if (how === 'hot') return [{ units: whole, window: false, owners: [] }];
  if (how === 'stack') return [{ units: whole, window: true, owners: [...writers] }];
  const placed: Placed[] = [];
  for (const [i, task] of tasks.entries()) {
    if (!task.freezeUnits) {
      if (task.freeze) placed.push({ label: labels[i]!, run: () => task.freeze!(), owners: [...writers] });
      continue;
    }
    for (const unit of task.freezeUnits()) placed.push(await placeUnit(unit, writers, mounts));
  }
  return groupByOwners(placed);
}

async function placeUnit(unit: FreezeUnit, writers: readonly ContainerInfo[], mounts: ReadonlyMap<string, readonly ContainerMount[]>): Promise<Placed> {
  const wanted = await withRealPaths(unit.mounts);
  const owners = writers.filter((w) => (mounts.get(w.id) ?? []).some((m) => wanted.some((x) => mountTouches(x, m))));
  // Every writer stopped at once (one owns all the data, or there is just one): live counts then equal the copy.
  const all = owners.length > 0 && owners.length === writers.length;
  return { label: unit.label, run: () => unit.run(all), owners };
}

/** Plan lines for the freeze steps. */
export function describeFreeze(steps: readonly FreezeStep[]): string[] {
  return steps.map((step) => {
    const labels = step.units.map((u) => u.label).join(', ') || 'nothing';
    if (!step.window) return `with the writers running: ${labels}`;
    return `window: stop ${step.owners.map((o) => o.service).join(', ') || 'no running writer'} while ${labels}, then start them again`;
  });
}

export interface FreezeResult {
  stopped: StoppedService[];
  windows: FreezeWindow[];
  /** Seconds inside windows, added up. */
  windowSeconds: number;
}

export interface FreezeRun {
  docker: DockerClient;
  step: <T>(label: string, work: () => Promise<T>, done?: (result: T) => string) => Promise<T>;
  note: NoteStopped;
  /** The writers stopped right now, for the caller's clean-up when a step fails before its own start. */
  held: { stopped?: StoppedWriters | undefined };
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;

/** Runs the steps; each window's writers start again before anything else happens, also on failure. */
export async function runFreeze(steps: readonly FreezeStep[], run: FreezeRun): Promise<FreezeResult> {
  const result: FreezeResult = { stopped: [], windows: [], windowSeconds: 0 };
  for (const step of steps) {
    if (!step.window) {
      for (const unit of step.units) await unit.run();
      continue;
    }
    const services = step.owners.map((w) => w.service);
    run.held.stopped = await run.step(`stop writers (${services.join(', ') || 'none'})`, () => stopWriters(run.docker, step.owners, run.note));
    const windowStart = Date.now();
    try {
      for (const unit of step.units) await unit.run();
    } finally {
      const toStart = run.held.stopped;
      run.held.stopped = undefined;
      const downtime = await run.step(`start writers (${services.join(', ') || 'none'})`, () => startWriters(run.docker, toStart, run.note), (d) => d.map((s) => `${s.service} ${s.seconds}s`).join(', ') || 'none');
      const took = seconds(Date.now() - windowStart);
      result.stopped.push(...downtime);
      result.windows.push({ services, copied: step.units.map((u) => u.label), seconds: took });
      result.windowSeconds = Math.round((result.windowSeconds + took) * 10) / 10;
    }
  }
  return result;
}
