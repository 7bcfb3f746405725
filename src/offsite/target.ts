// A place archives are kept other than BACKUP_ROOT/backups: an S3 bucket (and
// prefix) or an SFTP folder. Every command that works on archives (copy,
// list, verify, prune, check, restore) reaches a remote place only through
// this interface, so each kind of target is one file that implements it.
import type { Readable } from 'node:stream';

/** One archive as a target lists it. */
export interface RemoteArchive {
  /** The archive's file name, without the target's prefix or folder. */
  name: string;
  bytes: number;
  /** Retention until, when the server keeps an object lock on it. */
  lockedUntil?: Date;
}

export interface PutOptions {
  /** Bytes the stream will give; lets a target choose its part size up front. */
  bytes: number;
  /** sha256 of the whole stream, hex; the target proves its copy has it. */
  sha256: string;
  /** Object-lock retention in days where the server supports it. */
  lockDays?: number;
  signal?: AbortSignal;
  /** Bytes sent so far, for progress. */
  onProgress?: (sent: number) => void;
}

export interface Target {
  /** The target as an operator wrote it, without credentials (s3://bucket/prefix, sftp://user@host/path). */
  readonly url: string;
  /** Archives directly in the target, any prefix; callers filter by name. */
  list(signal?: AbortSignal): Promise<RemoteArchive[]>;
  /**
   * Stores `source` as `name`. Nothing appears under `name` unless every
   * byte arrived and the target proved the sha256 (a checksum the server
   * checked, or a read-back); an interrupted put leaves no object under it.
   */
  put(name: string, source: Readable, options: PutOptions): Promise<void>;
  /** The archive's bytes, streamed. */
  get(name: string, signal?: AbortSignal): Promise<Readable>;
  remove(name: string, signal?: AbortSignal): Promise<void>;
  /** Closes connections the target holds open. */
  close(): Promise<void>;
}
