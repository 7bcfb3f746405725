// The SFTP session over the ssh2 package: one SSH connection, host key
// checked against known_hosts before any credential is sent, then the SFTP
// subsystem. Failures become SessionErrors whose kind says whether another
// try can help.
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { hostKeyAlgorithms, knownHostsName, knownKeys } from './known-hosts.ts';
import type { SftpSettings } from './sftp-settings.ts';
import { type RemoteEntry, type RemoteHandle, SessionError, type SftpSession } from './sftp-session.ts';
import type { SftpLocation } from './sftp-url.ts';

// SFTP status codes (draft-ietf-secsh-filexfer-02).
const NO_SUCH_FILE = 2;
const PERMISSION_DENIED = 3;
const NO_CONNECTION = 6;
const CONNECTION_LOST = 7;
const OP_UNSUPPORTED = 8;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

const TRANSIENT_LEVELS = new Set(['client-socket', 'client-timeout', 'client-dns']);

function classify(error: unknown, what: string): SessionError {
  if (error instanceof SessionError) return error;
  const e = error as Error & { code?: unknown; level?: string };
  const message = `${what}: ${e.message}`;
  if (e.level === 'client-authentication') return new SessionError(e.message, 'auth', { cause: error });
  // A port that accepts and closes at once: a proxy in front of a server still starting.
  // ssh2 makes this error and "No response from server" (a connection that died with requests
  // in flight) with no code that sets them apart from fatal protocol errors; only their text does.
  const cutShort = e.message === 'Connection lost before handshake';
  if ((e.level && TRANSIENT_LEVELS.has(e.level)) || cutShort || e.code === NO_CONNECTION || e.code === CONNECTION_LOST || e.message === 'No response from server' || (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code))) {
    return new SessionError(message, 'transient', { cause: error });
  }
  if (e.code === NO_SUCH_FILE) return new SessionError(message, 'missing', { cause: error });
  if (e.code === PERMISSION_DENIED) return new SessionError(message, 'denied', { cause: error });
  return new SessionError(message, 'failure', { cause: error });
}

/** Calls an ssh2 callback-style method as a promise, classifying its error. */
function call<T>(what: string, run: (done: (error: Error | null | undefined, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      run((error, value) => (error ? reject(classify(error, what)) : resolve(value as T)));
    } catch (error) {
      reject(classify(error, what));
    }
  });
}

/** The fingerprint ssh-keygen -lf shows for a host key. */
function keyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

class Ssh2Session implements SftpSession {
  private readonly client: ssh2.Client;
  private readonly sftp: SFTPWrapper;
  private lost: SessionError | undefined;

  constructor(client: ssh2.Client, sftp: SFTPWrapper) {
    this.client = client;
    this.sftp = sftp;
    const lose = (error?: Error) => {
      this.lost ??= new SessionError(`the connection was lost${error ? ` (${error.message})` : ''}`, 'transient', { cause: error });
    };
    client.on('error', lose);
    client.on('close', () => lose());
  }

  private alive(): void {
    if (this.lost) throw this.lost;
  }

  open(path: string, flags: 'w' | 'r+' | 'r'): Promise<RemoteHandle> {
    this.alive();
    return call<Buffer>(`open ${path}`, (done) => this.sftp.open(path, flags, { mode: 0o600 }, done));
  }

  write(handle: RemoteHandle, data: Buffer, position: number): Promise<void> {
    this.alive();
    return call<void>('write', (done) => this.sftp.write(handle as Buffer, data, 0, data.length, position, (error) => done(error)));
  }

  read(handle: RemoteHandle, length: number, position: number): Promise<Buffer> {
    this.alive();
    const buffer = Buffer.allocUnsafe(length);
    return call<number>('read', (done) => this.sftp.read(handle as Buffer, buffer, 0, length, position, (error, bytesRead) => done(error, bytesRead))).then((n) => buffer.subarray(0, n));
  }

  async sync(handle: RemoteHandle): Promise<void> {
    this.alive();
    // ssh2 throws at once when the server lacks fsync@openssh.com; the
    // bytes are there all the same, and the read-back proves them.
    await call<void>('fsync', (done) => {
      try {
        this.sftp.ext_openssh_fsync(handle as Buffer, (error) => done(error));
      } catch {
        done(null);
      }
    });
  }

  close(handle: RemoteHandle): Promise<void> {
    this.alive();
    return call<void>('close', (done) => this.sftp.close(handle as Buffer, (error) => done(error)));
  }

  async stat(path: string): Promise<{ bytes: number; isFile: boolean } | undefined> {
    this.alive();
    try {
      const attrs = await call<ssh2.Stats>(`stat ${path}`, (done) => this.sftp.stat(path, done));
      return { bytes: attrs.size, isFile: (attrs.mode & S_IFMT) === S_IFREG };
    } catch (error) {
      if ((error as SessionError).kind === 'missing') return undefined;
      throw error;
    }
  }

  async list(folder: string): Promise<RemoteEntry[] | undefined> {
    this.alive();
    try {
      const entries = await call<ssh2.FileEntryWithStats[]>(`list ${folder}`, (done) => this.sftp.readdir(folder, done));
      return entries.map((e) => ({ name: e.filename, bytes: e.attrs.size, isFile: (e.attrs.mode & S_IFMT) === S_IFREG }));
    } catch (error) {
      if ((error as SessionError).kind === 'missing') return undefined;
      throw error;
    }
  }

  async makeFolder(folder: string): Promise<void> {
    this.alive();
    if (folder === '.' || folder === '/') return;
    const found = await this.stat(folder);
    if (found) return;
    const parent = folder.includes('/') ? folder.slice(0, folder.lastIndexOf('/')) || '/' : '.';
    await this.makeFolder(parent);
    try {
      await call<void>(`make folder ${folder}`, (done) => this.sftp.mkdir(folder, (error) => done(error)));
    } catch (error) {
      // Another run made it in between.
      if (!(await this.stat(folder))) throw error;
    }
  }

  async rename(from: string, to: string): Promise<void> {
    this.alive();
    // ssh2 throws at once when the server lacks posix-rename@openssh.com.
    let atomic = true;
    try {
      await call<void>(`rename ${from}`, (done) => {
        try {
          this.sftp.ext_openssh_rename(from, to, (error) => done(error));
        } catch {
          atomic = false;
          done(null);
        }
      });
    } catch (error) {
      if (((error as SessionError).cause as { code?: unknown })?.code !== OP_UNSUPPORTED) throw error;
      atomic = false;
    }
    if (atomic) return;
    // Plain SFTP rename refuses to replace; the final name goes first, so
    // for a moment the archive is under neither name (never half of it).
    await this.remove(to);
    await call<void>(`rename ${from}`, (done) => this.sftp.rename(from, to, (error) => done(error)));
  }

  async remove(path: string): Promise<void> {
    this.alive();
    try {
      await call<void>(`remove ${path}`, (done) => this.sftp.unlink(path, (error) => done(error)));
    } catch (error) {
      if ((error as SessionError).kind !== 'missing') throw error;
    }
  }

  async end(): Promise<void> {
    this.client.end();
  }
}

/** Connects, checks the host key against known_hosts, logs in and opens SFTP. */
export function openSsh2Session(location: SftpLocation, settings: SftpSettings, timeoutMs = 20_000): Promise<SftpSession> {
  const known = knownKeys(settings.knownHosts, location.host, location.port);
  const name = knownHostsName(location.host, location.port);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let refusal: SessionError | undefined;
    let settled = false;
    // ssh2 may report more than one error for one failed connection; the first decides.
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(refusal ?? classify(error, `connect to ${name}`));
    };
    client.on('error', fail);
    client.once('ready', () => {
      client.sftp((error, sftp) => {
        if (error) return fail(error);
        settled = true;
        resolve(new Ssh2Session(client, sftp));
      });
    });
    const hostKeys = hostKeyAlgorithms(known);
    client.connect({
      host: location.host,
      port: location.port,
      username: location.user,
      ...(settings.privateKey ? { privateKey: settings.privateKey } : {}),
      ...(settings.passphrase !== undefined ? { passphrase: settings.passphrase } : {}),
      ...(settings.password !== undefined ? { password: settings.password } : {}),
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      ...(hostKeys.length > 0 ? { algorithms: { serverHostKey: hostKeys as ssh2.ServerHostKeyAlgorithm[] } } : {}),
      hostVerifier: (key: Buffer) => {
        if (known.some((k) => k.revoked && k.key.equals(key))) {
          refusal = new SessionError(`the host key of ${name} (${keyFingerprint(key)}) is revoked in ${settings.knownHostsPath}`, 'host-key');
        } else if (known.some((k) => !k.revoked && k.key.equals(key))) {
          return true;
        } else if (known.length > 0) {
          refusal = new SessionError(`the host key of ${name} (${keyFingerprint(key)}) does NOT match the one in ${settings.knownHostsPath}: the server was replaced, or someone is in between`, 'host-key');
        } else {
          refusal = new SessionError(`the host key of ${name} (${keyFingerprint(key)}) is not in ${settings.knownHostsPath}`, 'host-key');
        }
        return false;
      },
    });
  });
}
