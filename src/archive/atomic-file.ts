// A file that appears under its final name complete and on disk, or not at
// all: it is written as "<final>.partial" beside the final name, flushed,
// renamed, and the folder flushed so the rename survives a power cut.

import { link, open, rename, unlink, lstat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export const PARTIAL_SUFFIX = '.partial';

export interface AtomicFileOptions {
  /** Permission bits of the new file; default 0600 (backups hold secrets). */
  mode?: number;
  /** Replace an existing file under the final name; default false. */
  overwrite?: boolean;
}

export interface AtomicFile {
  readonly finalPath: string;
  readonly partialPath: string;
  readonly handle: FileHandle;
  /** Flushes, publishes under the final name and flushes the folder. */
  commit(): Promise<void>;
  /** Closes and removes the partial file; safe to call more than once or after commit. */
  discard(): Promise<void>;
}

export async function openAtomicFile(finalPath: string, options: AtomicFileOptions = {}): Promise<AtomicFile> {
  const partialPath = finalPath + PARTIAL_SUFFIX;
  // A leftover from a killed run; runs on one folder are serialised by the caller's lock.
  await unlink(partialPath).catch(ignoreMissing);
  const handle = await open(partialPath, 'wx', options.mode ?? 0o600);
  let state: 'open' | 'committed' | 'discarded' = 'open';
  return {
    finalPath,
    partialPath,
    handle,
    async commit() {
      if (state !== 'open') throw new Error(`${partialPath} is already ${state}`);
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await publish(partialPath, finalPath, options.overwrite ?? false);
      state = 'committed';
      await syncFolder(dirname(finalPath));
    },
    async discard() {
      if (state !== 'open') return;
      state = 'discarded';
      await handle.close().catch(() => undefined);
      await unlink(partialPath).catch(ignoreMissing);
    },
  };
}

/** Runs `write` on a fresh partial file and publishes it; on any failure nothing is left behind. */
export async function writeFileAtomically<T>(
  finalPath: string,
  write: (handle: FileHandle) => Promise<T>,
  options: AtomicFileOptions = {},
): Promise<T> {
  const file = await openAtomicFile(finalPath, options);
  try {
    const result = await write(file.handle);
    await file.commit();
    return result;
  } catch (error) {
    await file.discard();
    throw error;
  }
}

async function publish(from: string, to: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(from, to);
    return;
  }
  // link() fails with EEXIST instead of replacing, unlike rename().
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || !['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK'].includes(code ?? '')) {
      await unlink(from).catch(ignoreMissing);
      throw error;
    }
    // A file system without hard links: check, then rename (not race-free, but the caller holds a lock).
    const exists = await lstat(to).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)));
    if (exists) {
      await unlink(from).catch(ignoreMissing);
      throw Object.assign(new Error(`EEXIST: file already exists, ${to}`), { code: 'EEXIST', path: to });
    }
    await rename(from, to);
    return;
  }
  await unlink(from);
}

/** Gives a finished file its final name, never replacing one, and flushes the folder so the name survives a power cut. */
export async function publishFile(from: string, to: string): Promise<void> {
  await publish(from, to, false);
  await syncFolder(dirname(to));
}

export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems cannot fsync a directory; the rename is still done.
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
