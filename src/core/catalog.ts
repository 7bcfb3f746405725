// The archives in BACKUP_ROOT/backups, newest first, with what their
// manifests say: what `restore` offers to choose from and `list` shows.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgeIdentities } from '../archive/age/keys.ts';
import { isEncryptedArchive } from '../archive/archive-bytes.ts';
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
  /**
   * Encrypted with age. Without an identity its manifest stays unread (and
   * undefined) and that is no problem: name, time and size are all a host
   * without the key can know.
   */
  encrypted: boolean;
}

const ARCHIVE = /^([a-z0-9][a-z0-9-]*)-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\.tar(\.zst|\.gz)?(\.age)?$/;

/**
 * The moment an archive name carries (<prefix>-20261122T092140Z.tar.zst, .age after it when encrypted), or
 * undefined for other names, impossible dates and, with `prefix`, another
 * profile's archives (several stacks may share one BACKUP_ROOT).
 */
export function archiveDate(name: string, prefix?: string): Date | undefined {
  const m = ARCHIVE.exec(name);
  if (!m || (prefix !== undefined && m[1] !== prefix)) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(2, 8).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2026-02-31 over into March; such a name is not one we wrote.
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60 ? date : undefined;
}

/** With `identities`, encrypted archives' manifests are read too. */
export async function listArchives(backupsDir: string, prefix: string, identities?: AgeIdentities): Promise<CatalogEntry[]> {
  const names = (await readdir(backupsDir).catch(() => [] as string[])).filter((n) => archiveDate(n, prefix)).sort().reverse();
  const entries: CatalogEntry[] = [];
  for (const name of names) {
    const path = join(backupsDir, name);
    const bytes = (await stat(path)).size;
    const takenAt = archiveDate(name)!;
    const encrypted = await isEncryptedArchive(path);
    let manifest: Manifest | undefined;
    let problem: string | undefined;
    // Without identities an encrypted archive's manifest stays unread: not a problem of the archive.
    if (!encrypted || identities) {
      try {
        manifest = parseManifest(await readManifest(path, { identities }));
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    entries.push({ name, path, bytes, takenAt, manifest, problem, encrypted });
  }
  return entries;
}
