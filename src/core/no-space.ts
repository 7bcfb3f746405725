// A full disk is the one failure an operator can fix at once, and it shows
// up in many shapes: ENOSPC from our own writes (staging, the archive, the
// restore's dump files), "No space left on device" in a helper container's
// tar output, in pg_restore's stderr, in an OpenSearch snapshot's failure
// reasons or in the caused_by of its refused snapshot request. Whatever the shape, the run ends with one line that says the disk
// is full, which file system, what was being written and what state it left.
import { statfs } from 'node:fs/promises';
import { HossError, OperationError } from '../errors.ts';
import { formatBytes } from './human-units.ts';

const NO_SPACE_CODES = new Set(['ENOSPC', 'EDQUOT']);
const NO_SPACE_TEXT = /no space left on device|disk quota exceeded/i;

/**
 * A disk-full failure. Exit 8 (operation): the run had started changing
 * things when the disk filled up; exit 6 stays for the free-space pre-flight,
 * which refuses before anything is written.
 */
export class NoSpaceError extends OperationError {
  /** What was being written when the space ran out. */
  readonly activity: string;
  constructor(activity: string, cause: unknown) {
    super(`no space left on device while ${activity}`, { cause });
    this.activity = activity;
  }
}

/** True when the error, one of its causes, or the output of the command that failed says the disk is full. */
export function saysNoSpace(error: unknown): boolean {
  let current = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth += 1) {
    if (current instanceof NoSpaceError) return true;
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && NO_SPACE_CODES.has(code)) return true;
    if (current instanceof Error && NO_SPACE_TEXT.test(current.message)) return true;
    if (current instanceof HossError && current.details && NO_SPACE_TEXT.test(current.details)) return true;
    // The OpenSearch client's error names only the root cause ("failed to update snapshot in repository"); the disk is in caused_by.
    const body = (current as { meta?: { body?: unknown } }).meta?.body;
    if (body !== undefined && body !== null && NO_SPACE_TEXT.test(typeof body === 'string' ? body : JSON.stringify(body))) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Rethrows a disk-full failure as a NoSpaceError naming `activity`; anything else unchanged. */
export function noSpaceWhile<T>(activity: string, work: () => Promise<T>): Promise<T> {
  return work().catch((error: unknown) => {
    if (error instanceof NoSpaceError || !saysNoSpace(error)) throw error;
    throw new NoSpaceError(activity, error);
  });
}

export interface DiskFullReport {
  /** "backup" or "restore". */
  command: string;
  /** The folder whose file system filled up (BACKUP_ROOT), when known; the activity names the place otherwise. */
  folder?: string | undefined;
  /** The state the run left, in words an operator acts on. */
  state: string;
  hint: string;
}

/** The one-line report of a disk-full failure: which file system, how much is free now, what was being written, the state left. */
export async function diskFullError(error: unknown, report: DiskFullReport): Promise<OperationError> {
  const { folder } = report;
  const free = folder === undefined ? undefined : await statfs(folder).then((s) => formatBytes(s.bavail * s.bsize), () => 'unknown');
  const where = folder === undefined ? '' : ` on the file system of ${folder} (${free} free now)`;
  const activity = error instanceof NoSpaceError ? error.activity : firstLine(error);
  const underlying = error instanceof NoSpaceError ? error.cause : error;
  const details = [firstLine(underlying), underlying instanceof HossError ? underlying.details : undefined].filter((l) => l).join('\n');
  return new OperationError(
    `${report.command} failed: no space left${where} while ${activity}; ${report.state}`,
    { hint: report.hint, details, cause: error },
  );
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? '';
}
