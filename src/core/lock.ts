// One run at a time per BACKUP_ROOT. The lock file names its holder; a lock
// left by a process that no longer exists on this host, or by one from
// before the host restarted (its pid may since belong to another process),
// is taken over with a warning, so a killed run never blocks the next one. The holder also notes
// in the lock what it must undo (its run id, the services it stopped) before
// it changes anything, so that the run taking over a dead run's lock can
// finish that run's duty: start what it stopped, remove what it left.
import { hostname } from 'node:os';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError, PreflightError } from '../errors.ts';
import { noSpaceWhile, saysNoSpace } from './no-space.ts';

export const LOCK_FILE = '.hossadm.lock';

/** A container a run stopped and has not started again yet. */
export interface StoppedContainer {
  id: string;
  name: string;
  service: string;
}

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Labels the run's helper containers (org.hossadm.run) and names its leftovers. */
  runId?: string;
  /** Services the run has stopped and not started again. */
  stopped?: StoppedContainer[];
  /** The kernel's id of the boot the run ran in: after a restart its pid may belong to another process. */
  bootId?: string;
}

const isText = (v: unknown): v is string => typeof v === 'string';

/** Reads a lock file's text; anything that is not a holder record is undefined (and treated as "another run"). */
export function parseLockHolder(text: string): LockHolder | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isInteger(v.pid) || (v.pid as number) <= 0 || !isText(v.host) || !isText(v.command) || !isText(v.startedAt)) return undefined;
  const holder: LockHolder = { pid: v.pid as number, host: v.host, command: v.command, startedAt: v.startedAt };
  if (isText(v.runId)) holder.runId = v.runId;
  if (isText(v.bootId)) holder.bootId = v.bootId;
  if (Array.isArray(v.stopped)) {
    holder.stopped = v.stopped.filter((s): s is StoppedContainer => {
      const c = s as Record<string, unknown> | null;
      return c !== null && typeof c === 'object' && isText(c.id) && isText(c.name) && isText(c.service);
    });
  }
  return holder;
}

/** Linux's id of the current boot; undefined where there is none. */
async function currentBootId(): Promise<string | undefined> {
  return readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((t) => t.trim() || undefined, () => undefined);
}

/** A holder on this host is gone when the host restarted since (its pid may be reused) or its pid no longer exists. */
function gone(holder: LockHolder, me: LockHolder): 'restarted' | 'exited' | undefined {
  if (holder.host !== me.host) return undefined;
  if (holder.bootId && me.bootId && holder.bootId !== me.bootId) return 'restarted';
  return alive(holder.pid) ? undefined : 'exited';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Lock {
  /** The dead run whose lock this one took over, with what it noted it had to undo. */
  readonly previous: LockHolder | undefined;
  /** Notes which containers this run has stopped (an empty list once they run again), before it acts. */
  recordStopped(stopped: readonly StoppedContainer[]): Promise<void>;
  release(): Promise<void>;
}

/**
 * `restartsStopped`: whether the caller starts again the containers a dead
 * holder noted as stopped (backup and restore do, through cleanUpAfterDeadRun).
 * A caller that does not (prune) leaves such a lock in place and refuses, so
 * the note survives for the run that will.
 */
export async function acquireLock(backupRoot: string, command: string, warn: (message: string) => void, runId?: string, restartsStopped = true): Promise<Lock> {
  const path = join(backupRoot, LOCK_FILE);
  const bootId = await currentBootId();
  const me: LockHolder = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString(), ...(runId ? { runId } : {}), ...(bootId ? { bootId } : {}) };
  let previous: LockHolder | undefined;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify(me));
      } catch (error) {
        // An empty lock file would refuse every later run: remove it.
        await handle.close().catch(() => undefined);
        await rm(path, { force: true });
        throw error;
      }
      await handle.close();
      return {
        previous,
        async recordStopped(stopped) {
          // Written beside and renamed over, so a kill never leaves half a record.
          const next = `${path}.next`;
          try {
            // Named: other work of the run (a snapshot being written) may have filled the disk just before.
            await noSpaceWhile(`noting the services it stops in ${path}`, () => writeFile(next, JSON.stringify({ ...me, stopped }), { mode: 0o600 }));
          } catch (error) {
            // A full disk leaves an empty file behind; the record stays as it was.
            await rm(next, { force: true });
            throw error;
          }
          await rename(next, path);
        },
        release: () => rm(path, { force: true }),
      };
    } catch (error) {
      if (saysNoSpace(error)) {
        throw new PreflightError(`no space left on the file system of ${backupRoot}, not even for the lock file`, {
          hint: 'free space there or point BACKUP_ROOT at a larger disk, then run the command again',
          cause: error,
        });
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8').then(parseLockHolder, () => undefined);
    const why = holder ? gone(holder, me) : undefined;
    if (holder && why && !restartsStopped && (holder.stopped?.length ?? 0) > 0) {
      throw new PreflightError(`a ${holder.command} run (pid ${holder.pid}, started ${holder.startedAt}) was killed while ${holder.stopped!.map((c) => c.service).join(', ')} were stopped`, {
        hint: `run hossadm ${holder.command} first: it takes over ${path} and starts them again`,
      });
    }
    if (holder && why) {
      warn(`taking over the lock of a ${holder.command} run (pid ${holder.pid}, started ${holder.startedAt}) that no longer exists${why === 'restarted' ? ' (the host restarted since)' : ''}`);
      previous = holder;
      await rm(path, { force: true });
      continue;
    }
    const who = holder ? `a ${holder.command} run (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt})` : 'another run';
    throw new LockedError(`${who} holds ${path}`, { hint: 'wait for it to finish; if it is gone from another host, remove the lock file' });
  }
  throw new LockedError(`could not take ${path}`);
}
