// hossadm verify: proves an archive without touching the stack — every
// member's checksum, the manifest, the members' components — and with
// --restore-test also that it restores (into a throwaway copy). The result
// is recorded beside the archives for `list`, `prune` and `check`.
import { basename, dirname, resolve } from 'node:path';
import type { AgeIdentities } from '../archive/age/keys.ts';
import { ArchiveError, IdentityMismatchError, MismatchError, OperationError, StackError, UsageError } from '../errors.ts';
import { runRestoreTest, type RestoreTestDeps, type RestoreTestResult } from './restore-test.ts';
import { validateArchive } from './validate-archive.ts';
import { recordVerification, type VerificationRecord, type VerifyMode } from './verification-record.ts';

/** What a restore test needs, less its scratch folder, which comes with the options. */
export interface VerifyDeps extends Omit<RestoreTestDeps, 'workRoot'> {
  /** BACKUP_ROOT/backups, when the stack's configuration is readable: results are recorded there. */
  backupsDir: string | undefined;
  now?: () => Date;
}

export interface VerifyOptions {
  archive: string;
  restoreTest: boolean;
  /** Where the restore test's scratch folder goes. */
  workRoot: string | undefined;
  /** Keys that open an archive encrypted with age. */
  identities?: AgeIdentities | undefined;
}

export interface VerifyResult {
  archive: string;
  mode: VerifyMode;
  members: number;
  createdAt: string;
  stackVersion: string | null;
  consistency: string;
  restoreTest: RestoreTestResult | undefined;
  /** Whether the result was written to .verified.json (only for archives in BACKUP_ROOT/backups). */
  recorded: boolean;
  seconds: number;
}

/**
 * What a failed verification says about the archive. Interruptions, an
 * unreachable engine, a held lock or a missing image say nothing about it and
 * are not recorded; a restore that cannot load or prove the data is a failure.
 */
function failsTheArchive(error: unknown): boolean {
  // A key that does not fit says nothing about the archive.
  if (error instanceof IdentityMismatchError) return false;
  return error instanceof ArchiveError || error instanceof MismatchError || error instanceof OperationError || error instanceof StackError;
}

export async function runVerify(deps: VerifyDeps, options: VerifyOptions): Promise<VerifyResult> {
  const now = deps.now ?? (() => new Date());
  const startedAt = Date.now();
  const archive = resolve(options.archive);
  const mode: VerifyMode = options.restoreTest ? 'restore-test' : 'plain';
  const recordIn = deps.backupsDir && dirname(archive) === resolve(deps.backupsDir) ? deps.backupsDir : undefined;
  const record = async (result: Omit<VerificationRecord, 'at' | 'mode'>) => {
    if (recordIn) await recordVerification(recordIn, basename(archive), { at: now().toISOString(), mode, ...result });
  };

  if (options.restoreTest && !options.workRoot) {
    throw new UsageError('a restore test needs a scratch folder', { hint: 'give --work-dir, or run it where the stack configuration (BACKUP_ROOT) is readable' });
  }
  try {
    const { manifest, members } = await deps.reporter.step(
      `verify ${archive}`,
      () => validateArchive(archive, deps.profile, deps.signal, options.identities),
      (v) => `${v.members.length} members, checksums match, every member has its component`,
    );
    let restoreTest: RestoreTestResult | undefined;
    if (options.restoreTest) {
      restoreTest = await runRestoreTest({ ...deps, workRoot: options.workRoot! }, archive, options.identities);
    }
    await record({ ok: true });
    return {
      archive,
      mode,
      members: members.length,
      createdAt: manifest.createdAt,
      stackVersion: manifest.stackVersion,
      consistency: manifest.consistency.mode,
      restoreTest,
      recorded: recordIn !== undefined,
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
  } catch (error) {
    if (failsTheArchive(error) && !deps.signal.aborted) {
      await record({ ok: false, problem: (error as Error).message }).catch((e) => deps.reporter.warn(`could not record the failure: ${(e as Error).message}`));
    }
    throw error;
  }
}
