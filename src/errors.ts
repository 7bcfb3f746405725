// Every failure hossadm reports is one of these classes. Each carries the
// process exit code an operator's script can branch on, and a hint that says
// what to do next. Only the CLI entry turns them into output and an exit code.

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  config: 3,
  engine: 4,
  stack: 5,
  preflight: 6,
  archive: 7,
  operation: 8,
  locked: 9,
  mismatch: 10,
  declined: 11,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means; the README's table is generated from the same words. */
export const exitCodeMeaning: Record<ExitCodeValue, string> = {
  0: 'success',
  1: 'unexpected internal error (a bug: please report it with the output)',
  2: 'bad command line (unknown option, missing argument)',
  3: 'configuration missing or invalid (HOSS_DIR/.env, stack profile)',
  4: 'Docker engine unreachable or refused the request',
  5: 'stack not as expected (container, service, volume or network missing or stopped)',
  6: 'a pre-flight check failed (free space, versions, snapshot repository, existing data); nothing was changed',
  7: 'archive unreadable, corrupted, incomplete or not made by hossadm; nothing was changed',
  8: 'a component operation failed (pg_dump, pg_restore, snapshot, helper container)',
  9: 'another hossadm run holds the lock on this BACKUP_ROOT',
  10: 'restore finished but the restored content differs from the archive manifest',
  11: 'the operator declined a confirmation; nothing was changed',
  130: 'interrupted (SIGINT/SIGTERM); partial files removed, see the message for the state',
};

export interface HossErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines shown after the one-line message (stderr of a failed command, a diff). */
  details?: string;
  /** The command already said all there is on stdout (check's status line); the entry only sets the exit code. */
  reported?: boolean;
}

export class HossError extends Error {
  /** The exit code of a class; subclasses set only this. */
  static readonly code: ExitCodeValue = ExitCode.internal;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: string | undefined;
  readonly reported: boolean;

  constructor(message: string, options: HossErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = (new.target as typeof HossError).code;
    this.hint = options.hint;
    this.details = options.details;
    this.reported = options.reported ?? false;
  }
}

export class UsageError extends HossError {
  static override readonly code = ExitCode.usage;
}
export class ConfigError extends HossError {
  static override readonly code = ExitCode.config;
}
export class EngineError extends HossError {
  static override readonly code = ExitCode.engine;
}
export class StackError extends HossError {
  static override readonly code = ExitCode.stack;
}
export class PreflightError extends HossError {
  static override readonly code = ExitCode.preflight;
}
export class OperationError extends HossError {
  static override readonly code = ExitCode.operation;
}
export class LockedError extends HossError {
  static override readonly code = ExitCode.locked;
}
export class MismatchError extends HossError {
  static override readonly code = ExitCode.mismatch;
}
export class DeclinedError extends HossError {
  static override readonly code = ExitCode.declined;
}
export class InterruptedError extends HossError {
  static override readonly code = ExitCode.interrupted;
}
export class ArchiveError extends HossError {
  static override readonly code = ExitCode.archive;
  /** The archive member at fault, when one is. */
  readonly member: string | undefined;
  constructor(message: string, options: HossErrorOptions & { member?: string } = {}) {
    super(message, options);
    this.member = options.member;
  }
}

/**
 * An encrypted archive that none of the given identities opens. Exit 7 like
 * any unreadable archive, but it says nothing about the archive itself, so a
 * verification that meets it is not recorded as a failure of the archive.
 */
export class IdentityMismatchError extends ArchiveError {}

/**
 * The verdict of `hossadm check`, which speaks the monitoring-plugin
 * convention (1 warning, 2 critical, 3 unknown) instead of the table above,
 * because Nagios, Icinga, Checkmk and Zabbix read exactly those codes. Its
 * status line is already on stdout.
 */
export class MonitoringStatus extends HossError {
  override readonly exitCode: ExitCodeValue;
  constructor(code: 1 | 2 | 3, line: string) {
    super(line, { reported: true });
    this.exitCode = code;
  }
}

/** Wraps anything thrown into a HossError so callers render one shape. */
export function asHossError(error: unknown): HossError {
  if (error instanceof HossError) return error;
  // A full disk met where no engine named it is still not a bug: say so, with the path when the error has one.
  const { code, path } = error as NodeJS.ErrnoException;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new OperationError(`no space left on device${path ? ` writing ${path}` : ''}`, { hint: 'free space there, then run the command again', cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new HossError(message, { cause: error });
}
