// The archives in BACKUP_ROOT/backups, newest first, with what their
// manifests say: what `restore` offers to choose from and `list` shows.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifest } from '../archive/archive-reader.ts';
import type { Manifest } from './manifest.ts';
import { parseManifest } from './manifest.ts';

export interface CatalogEntry {
  name: string;
  path: string;
  bytes: number;
  manifest: Manifest | undefined;
  /** Why the manifest could not be read, when it could not. */
  problem: string | undefined;
}

const ARCHIVE = /^hoss-backup-\d{8}T\d{6}Z\.tar(\.zst|\.gz)?$/;

export async function listArchives(backupsDir: string): Promise<CatalogEntry[]> {
  const names = (await readdir(backupsDir).catch(() => [] as string[])).filter((n) => ARCHIVE.test(n)).sort().reverse();
  const entries: CatalogEntry[] = [];
  for (const name of names) {
    const path = join(backupsDir, name);
    const bytes = (await stat(path)).size;
    try {
      entries.push({ name, path, bytes, manifest: parseManifest(await readManifest(path)), problem: undefined });
    } catch (error) {
      entries.push({ name, path, bytes, manifest: undefined, problem: (error as Error).message });
    }
  }
  return entries;
}
