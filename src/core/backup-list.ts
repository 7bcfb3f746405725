// hossadm list: the archives in BACKUP_ROOT/backups, newest first, with what
// their manifests say and what the last verification found. An archive whose
// manifest cannot be read is listed with the reason, never left out.
import type { ConsistencyMode } from '../components/component.ts';
import { listArchives } from './catalog.ts';
import { readVerifications, type VerificationRecord } from './verification-record.ts';

export interface BackupRow {
  name: string;
  path: string;
  /** From the UTC stamp in the name. */
  takenAt: string;
  bytes: number;
  stackVersion: string | null;
  components: string[];
  consistency: ConsistencyMode | null;
  lastVerified: VerificationRecord | null;
  /** Why the manifest cannot be read; null when it can (or when it is encrypted and no key was given). */
  problem: string | null;
  /** Encrypted with age: without the key, only name, time and size are known. */
  encrypted: boolean;
}

export async function listBackups(backupsDir: string, prefix: string): Promise<BackupRow[]> {
  const [entries, verifications] = await Promise.all([listArchives(backupsDir, prefix), readVerifications(backupsDir)]);
  return entries.map((e) => ({
    name: e.name,
    path: e.path,
    takenAt: e.takenAt.toISOString(),
    bytes: e.bytes,
    stackVersion: e.manifest ? e.manifest.stackVersion : null,
    components: e.manifest ? Object.keys(e.manifest.components) : [],
    consistency: e.manifest ? e.manifest.consistency.mode : null,
    lastVerified: verifications[e.name] ?? null,
    problem: e.problem ?? null,
    encrypted: e.encrypted,
  }));
}
