// An SFTP folder as a target. put() writes `<name>.partial`, reads the
// server's copy back to prove its sha256, and only then renames it to
// `<name>`: an interrupted or damaged upload never has the final name. A
// dropped connection is met by reconnecting and carrying on where the
// server's acknowledged bytes end (writes and reads are at positions), with
// backoff, so a transient failure costs a few blocks, not the whole upload.
// Memory is bounded by the blocks in flight.
import { createHash } from 'node:crypto';
import { addAbortSignal, Readable } from 'node:stream';
import { ConfigError, HossError, OperationError, UsageError } from '../errors.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.ts';
import { type RemoteHandle, SessionError, type SftpSession } from './sftp-session.ts';
import { remotePath, type SftpLocation } from './sftp-url.ts';
import type { PutOptions, RemoteArchive, Target } from './target.ts';

export const PARTIAL_SUFFIX = '.partial';

export interface SftpTargetOptions {
  warn?: (message: string) => void;
  retry?: RetryPolicy;
  /** Bytes per write request; a few are in flight at once. */
  blockBytes?: number;
  /** Requests in flight per transfer. */
  window?: number;
}

interface OpenFile {
  session: SftpSession;
  handle: Promise<RemoteHandle>;
}

/** Why the name cannot be an archive's name in a folder. */
function badName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) return 'is not a file name';
  if (name.endsWith(PARTIAL_SUFFIX)) return `ends in ${PARTIAL_SUFFIX}, which marks unfinished uploads`;
  return undefined;
}

export class SftpTarget implements Target {
  readonly url: string;
  private session: Promise<SftpSession> | undefined;
  private readonly open = new Map<string, OpenFile>();
  private closed = false;
  private readonly warn: (message: string) => void;
  private readonly retry: RetryPolicy;
  private readonly blockBytes: number;
  private readonly window: number;

  private readonly location: SftpLocation;
  private readonly connect: () => Promise<SftpSession>;

  constructor(location: SftpLocation, connect: () => Promise<SftpSession>, options: SftpTargetOptions = {}) {
    this.location = location;
    this.connect = connect;
    this.url = location.url;
    this.warn = options.warn ?? (() => undefined);
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.blockBytes = options.blockBytes ?? 256 * 1024;
    this.window = options.window ?? 4;
  }

  async list(signal?: AbortSignal): Promise<RemoteArchive[]> {
    const entries = await this.attempt('list the folder', (s) => s.list(this.location.folder), signal);
    return (entries ?? [])
      .filter((e) => e.isFile && !e.name.startsWith('.') && badName(e.name) === undefined)
      .map((e) => ({ name: e.name, bytes: e.bytes }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async put(name: string, source: Readable, options: PutOptions): Promise<void> {
    const final = this.pathOf(name);
    const partial = final + PARTIAL_SUFFIX;
    try {
      await this.attempt('make the folder', (s) => s.makeFolder(this.location.folder), options.signal);
      await this.attempt('start the upload', (s) => this.handleFor(s, partial, 'w'), options.signal);
      const sent = await this.upload(partial, source, options);
      if (sent.bytes !== options.bytes || sent.sha256 !== options.sha256) {
        throw new OperationError(`${this.url}/${name}: the archive gave ${sent.bytes} bytes with sha256 ${sent.sha256} while being sent, not the ${options.bytes} bytes and sha256 it was expected to have`, {
          hint: 'the local archive changed during the copy; run hossadm verify on it, then copy again',
        });
      }
      await this.attempt('finish the upload', async (s) => {
        const handle = await this.handleFor(s, partial, 'r+');
        await s.sync(handle);
        await this.closeFile(partial);
      }, options.signal);
      const back = await this.digest(partial, options.signal);
      if (back.bytes !== options.bytes || back.sha256 !== options.sha256) {
        throw new OperationError(`${this.url}/${name}: the server's copy read back as ${back.bytes} bytes with sha256 ${back.sha256}, not the archive's ${options.bytes} bytes and ${options.sha256}; nothing was stored under ${name}`, {
          hint: 'the server or the path to it damages data; check its disk, then copy again',
        });
      }
      await this.attempt('rename the upload to its final name', (s) => this.rename(s, partial, final, options.bytes), options.signal);
    } catch (error) {
      await this.discard(partial);
      throw error;
    }
  }

  async get(name: string, signal?: AbortSignal): Promise<Readable> {
    const path = this.pathOf(name);
    const found = await this.attempt(`look up ${name}`, (s) => s.stat(path), signal);
    if (!found?.isFile) {
      throw new UsageError(`${this.url}/${name}: no such archive on the target`, { hint: `hossadm list ${this.url} shows what it holds` });
    }
    const stream = Readable.from(this.blocks(path, signal), { objectMode: false });
    return signal ? addAbortSignal(signal, stream) : stream;
  }

  async remove(name: string, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(name);
    await this.attempt(`remove ${name}`, (s) => s.remove(path), signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    this.open.clear();
    if (session) await session.then((s) => s.end()).catch(() => undefined);
  }

  private pathOf(name: string): string {
    const why = badName(name);
    if (why) throw new UsageError(`"${name}" ${why}`, { hint: 'name an archive as hossadm list shows it' });
    return remotePath(this.location.folder, name);
  }

  /** The session, connecting (once, shared) when there is none. */
  private sessionNow(): Promise<SftpSession> {
    // A read still running behind a stream its consumer dropped must not connect again after close().
    if (this.closed) return Promise.reject(new SessionError('the target was closed', 'failure'));
    if (!this.session) {
      const connecting = this.connect();
      this.session = connecting;
      connecting.catch(() => {
        if (this.session === connecting) this.session = undefined;
      });
    }
    return this.session;
  }

  /** Forgets a session that failed, so the next try connects again. */
  private drop(session: SftpSession): void {
    void this.session?.then((s) => {
      if (s !== session) return;
      this.session = undefined;
      for (const [path, file] of this.open) if (file.session === session) this.open.delete(path);
      session.end().catch(() => undefined);
    });
  }

  /** `work` on a live session; transient failures are tried again with backoff, then any failure becomes one line. */
  private async attempt<T>(what: string, work: (session: SftpSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await withRetry(
        async () => {
          signal?.throwIfAborted();
          const session = await this.sessionNow();
          try {
            return await work(session);
          } catch (error) {
            if (error instanceof SessionError && error.kind === 'transient') this.drop(session);
            throw error;
          }
        },
        { ...this.retry, onRetry: (n, delay, error) => this.warn(`${this.url}: could not ${what} (${(error as Error).message}); try ${n + 1} of ${this.retry.attempts} in ${delay / 1000} s`) },
        signal,
      );
    } catch (error) {
      throw this.explain(what, error);
    }
  }

  private explain(what: string, error: unknown): unknown {
    if (error instanceof HossError || !(error instanceof SessionError)) return error;
    const { user } = this.location;
    switch (error.kind) {
      case 'auth':
        return new ConfigError(`${this.url}: the server refused the login of ${user} (${error.message})`, {
          hint: "check HOSSADM_SFTP_KEY_FILE (its public key must be in the user's authorized keys on the server) or HOSSADM_SFTP_PASSWORD_FILE",
        });
      case 'host-key':
        return new ConfigError(`${this.url}: ${error.message}`, { hint: 'compare the key with the server\'s own (ssh-keygen -lf on the server), then add it to HOSSADM_SFTP_KNOWN_HOSTS' });
      case 'transient':
        return new OperationError(`${this.url}: could not ${what} after ${this.retry.attempts} tries: ${error.message}`, { hint: 'check that the server is up and reachable, then run the command again' });
      case 'denied':
        return new OperationError(`${this.url}: could not ${what}: permission denied (${error.message})`, { hint: `the user ${user} needs write access to ${this.location.folder} on the server` });
      default:
        return new OperationError(`${this.url}: could not ${what}: ${error.message}`);
    }
  }

  /** The open handle of a file on this session, opening it (once) when the session is new. */
  private handleFor(session: SftpSession, path: string, flags: 'w' | 'r+' | 'r'): Promise<RemoteHandle> {
    const known = this.open.get(path);
    if (known && known.session === session) return known.handle;
    const handle = session.open(path, flags);
    this.open.set(path, { session, handle });
    handle.catch(() => {
      if (this.open.get(path)?.handle === handle) this.open.delete(path);
    });
    return handle;
  }

  private async closeFile(path: string): Promise<void> {
    const file = this.open.get(path);
    if (!file) return;
    this.open.delete(path);
    await file.session.close(await file.handle);
  }

  /** Sends the source into the partial file, a window of blocks at a time; its byte count and sha256. */
  private async upload(partial: string, source: Readable, options: PutOptions): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let position = 0;
    let acknowledged = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const send = async (block: Buffer, at: number): Promise<void> => {
      while (inFlight.size >= this.window) await Promise.race(inFlight);
      if (failure !== undefined) throw failure;
      const write = this.attempt('upload', async (s) => s.write(await this.handleFor(s, partial, 'r+'), block, at), options.signal).then(
        () => {
          acknowledged += block.length;
          options.onProgress?.(acknowledged);
        },
        (error: unknown) => {
          failure ??= error;
        },
      );
      const tracked = write.finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    };
    try {
      for await (const chunk of source) {
        const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        hash.update(data);
        pending.push(data);
        pendingBytes += data.length;
        while (pendingBytes >= this.blockBytes) {
          const joined = Buffer.concat(pending, pendingBytes);
          const block = joined.subarray(0, this.blockBytes);
          const rest = joined.subarray(this.blockBytes);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
          await send(block, position);
          position += block.length;
        }
      }
      if (pendingBytes > 0) {
        await send(Buffer.concat(pending, pendingBytes), position);
        position += pendingBytes;
      }
    } finally {
      // Writes still trying again must end before the partial file is
      // discarded or renamed (they settle; none rejects).
      await Promise.all(inFlight);
    }
    if (failure !== undefined) throw failure;
    return { bytes: position, sha256: hash.digest('hex') };
  }

  /** The file's bytes in order, read a window of requests ahead, resuming at the right place after a reconnect. */
  private async *blocks(path: string, signal?: AbortSignal): AsyncGenerator<Buffer> {
    const ahead: Array<{ at: number; data: Promise<Buffer> }> = [];
    let next = 0;
    const ask = () => {
      const at = next;
      const data = this.attempt('read', async (s) => s.read(await this.handleFor(s, path, 'r'), this.blockBytes, at), signal);
      data.catch(() => undefined);
      ahead.push({ at, data });
      next += this.blockBytes;
    };
    try {
      for (;;) {
        while (ahead.length < this.window) ask();
        const { at, data } = ahead.shift()!;
        const got = await data;
        if (got.length === 0) return;
        yield got;
        if (got.length < this.blockBytes) {
          // A short read: the server gave less than asked; the reads
          // queued behind it started too far on, so ask again from here.
          ahead.length = 0;
          next = at + got.length;
        }
      }
    } finally {
      await this.closeFile(path).catch(() => undefined);
    }
  }

  private async digest(path: string, signal?: AbortSignal): Promise<{ bytes: number; sha256: string }> {
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const block of this.blocks(path, signal)) {
      hash.update(block);
      bytes += block.length;
    }
    return { bytes, sha256: hash.digest('hex') };
  }

  /** Renames; a rename whose answer was lost to a dropped connection is found done on the next try. */
  private async rename(session: SftpSession, from: string, to: string, bytes: number): Promise<void> {
    try {
      await session.rename(from, to);
    } catch (error) {
      if (error instanceof SessionError && error.kind === 'missing' && (await session.stat(from)) === undefined && (await session.stat(to))?.bytes === bytes) return;
      throw error;
    }
  }

  /** Removes an unfinished upload, once, without retries: the final name was never touched. */
  private async discard(partial: string): Promise<void> {
    const file = this.open.get(partial);
    this.open.delete(partial);
    try {
      const session = await this.sessionNow();
      if (file && file.session === session) await session.close(await file.handle).catch(() => undefined);
      await session.remove(partial);
    } catch {
      // The connection is gone too; the next put of this name truncates the
      // partial file, and list() never shows it.
    }
  }
}
