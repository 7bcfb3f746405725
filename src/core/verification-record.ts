// What `hossadm verify` found, kept beside the archives in
// BACKUP_ROOT/backups/.verified.json so that `list` can show it, `prune`
// can spare the newest archive known to be good and `check` can alert on a
// failed verification. One entry per archive name: the last result only.
import { join } from 'node:path';
import { readJson } from 'fs-extra/esm';
import { writeFileAtomically } from '../archive/atomic-file.ts';

export const VERIFIED_FILE = '.verified.json';

export type VerifyMode = 'plain' | 'restore-test';

export interface VerificationRecord {
  /** ISO date of the end of the run. */
  at: string;
  ok: boolean;
  mode: VerifyMode;
  /** The first problem found, when the run failed. */
  problem?: string;
}

export type Verifications = Record<string, VerificationRecord>;

function isRecord(value: unknown): value is VerificationRecord {
  const r = value as Partial<VerificationRecord> | null;
  return typeof r === 'object' && r !== null && typeof r.at === 'string' && typeof r.ok === 'boolean' && (r.mode === 'plain' || r.mode === 'restore-test');
}

/** The records; a missing or damaged file means "nothing verified yet", never a failure of list or check. */
export async function readVerifications(backupsDir: string): Promise<Verifications> {
  let raw: unknown;
  try {
    raw = await readJson(join(backupsDir, VERIFIED_FILE));
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  return Object.fromEntries(Object.entries(raw).filter(([, value]) => isRecord(value))) as Verifications;
}

async function rewrite(backupsDir: string, change: (records: Verifications) => void): Promise<void> {
  const records = await readVerifications(backupsDir);
  change(records);
  const text = `${JSON.stringify(records, null, 2)}\n`;
  // Atomic and 0600 like the archives: a reader sees the old file or the new one, never half of one.
  await writeFileAtomically(join(backupsDir, VERIFIED_FILE), (handle) => handle.writeFile(text), { overwrite: true, mode: 0o600 });
}

export function recordVerification(backupsDir: string, archiveName: string, record: VerificationRecord): Promise<void> {
  return rewrite(backupsDir, (records) => {
    records[archiveName] = record;
  });
}

/** Drops the records of archives that prune deleted. */
export function forgetVerifications(backupsDir: string, archiveNames: readonly string[]): Promise<void> {
  return rewrite(backupsDir, (records) => {
    for (const name of archiveNames) delete records[name];
  });
}
