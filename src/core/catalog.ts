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
  /** When the backup was taken, from the UTC stamp in its name: readable even when the manifest is not. */
  takenAt: Date;
  manifest: Manifest | undefined;
  /** Why the manifest could not be read, when it could not. */
  problem: string | undefined;
}

const ARCHIVE = /^hoss-backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.tar(\.zst|\.gz)?$/;

/** The moment an archive name carries (hoss-backup-20261122T092140Z...), or undefined for other names and impossible dates. */
export function archiveDate(name: string): Date | undefined {
  const m = ARCHIVE.exec(name);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2026-02-31 over into March; such a name is not one we wrote.
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60 ? date : undefined;
}

export async function listArchives(backupsDir: string): Promise<CatalogEntry[]> {
  const names = (await readdir(backupsDir).catch(() => [] as string[])).filter((n) => archiveDate(n)).sort().reverse();
  const entries: CatalogEntry[] = [];
  for (const name of names) {
    const path = join(backupsDir, name);
    const bytes = (await stat(path)).size;
    const takenAt = archiveDate(name)!;
    try {
      entries.push({ name, path, bytes, takenAt, manifest: parseManifest(await readManifest(path)), problem: undefined });
    } catch (error) {
      entries.push({ name, path, bytes, takenAt, manifest: undefined, problem: (error as Error).message });
    }
  }
  return entries;
}
