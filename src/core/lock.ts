// One run at a time per BACKUP_ROOT. The lock file names its holder; a lock
// left by a process that no longer exists on this host is taken over with a
// warning, so a killed run never blocks the next one.
import { hostname } from 'node:os';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError } from '../errors.ts';

export const LOCK_FILE = '.hossadm.lock';

interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
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
  release(): Promise<void>;
}

export async function acquireLock(backupRoot: string, command: string, warn: (message: string) => void): Promise<Lock> {
  const path = join(backupRoot, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), command, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(me));
      await handle.close();
      return { release: () => rm(path, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(path, 'utf8').then((t) => JSON.parse(t) as LockHolder).catch(() => undefined);
    if (holder && holder.host === me.host && !alive(holder.pid)) {
      warn(`taking over the lock of a ${holder.command} run (pid ${holder.pid}) that no longer exists`);
      await rm(path, { force: true });
      continue;
    }
    const who = holder ? `a ${holder.command} run (pid ${holder.pid} on ${holder.host}, started ${holder.startedAt})` : 'another run';
    throw new LockedError(`${who} holds ${path}`, { hint: 'wait for it to finish; if it is gone from another host, remove the lock file' });
  }
  throw new LockedError(`could not take ${path}`);
}
