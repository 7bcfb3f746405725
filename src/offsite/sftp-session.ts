// The few SFTP operations an SFTP target needs, as promises. The target's
// logic (partial name, read-back, rename, resume after a dropped
// connection) is written against this, so unit tests can run it on a fake;
// ssh2-session.ts is the real one.

export interface RemoteEntry {
  name: string;
  bytes: number;
  isFile: boolean;
}

/** An open remote file. */
export type RemoteHandle = unknown;

export interface SftpSession {
  /** 'w' creates or truncates, 'r+' writes into an existing file, 'r' reads. */
  open(path: string, flags: 'w' | 'r+' | 'r'): Promise<RemoteHandle>;
  write(handle: RemoteHandle, data: Buffer, position: number): Promise<void>;
  /** Up to `length` bytes at `position`; an empty buffer at the end of the file. */
  read(handle: RemoteHandle, length: number, position: number): Promise<Buffer>;
  /** Flushes to the server's disk where the server offers it (fsync@openssh.com). */
  sync(handle: RemoteHandle): Promise<void>;
  close(handle: RemoteHandle): Promise<void>;
  /** Undefined when nothing is there. */
  stat(path: string): Promise<{ bytes: number; isFile: boolean } | undefined>;
  /** Undefined when the folder does not exist. */
  list(folder: string): Promise<RemoteEntry[] | undefined>;
  /** Makes the folder and its parents. */
  makeFolder(folder: string): Promise<void>;
  /** Replaces `to` if it exists, atomically where the server can (posix-rename@openssh.com). */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; nothing there is not an error. */
  remove(path: string): Promise<void>;
  end(): Promise<void>;
}

export type SessionErrorKind = 'transient' | 'auth' | 'host-key' | 'missing' | 'denied' | 'failure';

/**
 * Why a session operation failed, so the target knows whether to try again.
 * A transient one carries a connection error code, which the retry loop
 * (retry.ts) counts as worth another try.
 */
export class SessionError extends Error {
  readonly kind: SessionErrorKind;
  readonly code: string | undefined;
  constructor(message: string, kind: SessionErrorKind, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SessionError';
    this.kind = kind;
    this.code = kind === 'transient' ? 'ECONNABORTED' : undefined;
  }
}
