// An in-memory SFTP server for the SFTP target's unit tests: files and
// folders shared by every session it hands out, and faults to inject (a
// connection that drops after some writes, a disk that flips a byte, a
// login refused).
import { type RemoteEntry, type RemoteHandle, SessionError, type SftpSession } from '../../src/offsite/sftp-session.ts';

export class FakeSftpServer {
  readonly files = new Map<string, Buffer>();
  readonly folders = new Set<string>(['.', '/']);
  connects = 0;
  writes = 0;
  /** Drop the connection at these write calls (1-based, counted over all sessions). */
  dropAtWrites = new Set<number>();
  /** Every connection attempt fails as a network error. */
  down = false;
  refuseLogin = false;
  /** Flips the first byte of every write: a server that damages data. */
  corrupt = false;

  connect = async (): Promise<SftpSession> => {
    this.connects++;
    if (this.down) throw new SessionError('connect ECONNREFUSED', 'transient');
    if (this.refuseLogin) throw new SessionError('All configured authentication methods failed', 'auth');
    return new FakeSftpSession(this);
  };

  /** Only the names in a folder, sorted. */
  names(folder: string): string[] {
    const prefix = folder === '.' ? '' : `${folder}/`;
    return [...this.files.keys()].filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/')).map((p) => p.slice(prefix.length)).sort();
  }
}

interface FakeHandle {
  path: string;
}

class FakeSftpSession implements SftpSession {
  private dead = false;
  private readonly server: FakeSftpServer;

  constructor(server: FakeSftpServer) {
    this.server = server;
  }

  private alive(): void {
    if (this.dead) throw new SessionError('the connection was lost', 'transient');
  }

  private parentExists(path: string): void {
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) || '/' : '.';
    if (!this.server.folders.has(parent)) throw new SessionError(`${path}: No such file`, 'missing');
  }

  async open(path: string, flags: 'w' | 'r+' | 'r'): Promise<RemoteHandle> {
    this.alive();
    if (flags === 'w') {
      this.parentExists(path);
      this.server.files.set(path, Buffer.alloc(0));
    } else if (!this.server.files.has(path)) {
      throw new SessionError(`${path}: No such file`, 'missing');
    }
    return { path } satisfies FakeHandle;
  }

  async write(handle: RemoteHandle, data: Buffer, position: number): Promise<void> {
    this.alive();
    const n = ++this.server.writes;
    if (this.server.dropAtWrites.has(n)) {
      this.dead = true;
      throw new SessionError('No response from server', 'transient');
    }
    const { path } = handle as FakeHandle;
    const old = this.server.files.get(path) ?? Buffer.alloc(0);
    const next = Buffer.alloc(Math.max(old.length, position + data.length));
    old.copy(next);
    data.copy(next, position);
    if (this.server.corrupt) next[position] = (next[position] ?? 0) ^ 0xff;
    this.server.files.set(path, next);
  }

  async read(handle: RemoteHandle, length: number, position: number): Promise<Buffer> {
    this.alive();
    const data = this.server.files.get((handle as FakeHandle).path) ?? Buffer.alloc(0);
    return Buffer.from(data.subarray(position, position + length));
  }

  async sync(): Promise<void> {
    this.alive();
  }

  async close(): Promise<void> {
    this.alive();
  }

  async stat(path: string): Promise<{ bytes: number; isFile: boolean } | undefined> {
    this.alive();
    const data = this.server.files.get(path);
    if (data) return { bytes: data.length, isFile: true };
    return this.server.folders.has(path) ? { bytes: 0, isFile: false } : undefined;
  }

  async list(folder: string): Promise<RemoteEntry[] | undefined> {
    this.alive();
    if (!this.server.folders.has(folder)) return undefined;
    return this.server.names(folder).map((name) => ({ name, bytes: this.server.files.get(folder === '.' ? name : `${folder}/${name}`)!.length, isFile: true }));
  }

  async makeFolder(folder: string): Promise<void> {
    this.alive();
    const parts = folder.split('/');
    for (let i = 1; i <= parts.length; i++) this.server.folders.add(parts.slice(0, i).join('/') || '/');
  }

  async rename(from: string, to: string): Promise<void> {
    this.alive();
    const data = this.server.files.get(from);
    if (!data) throw new SessionError(`${from}: No such file`, 'missing');
    this.server.files.delete(from);
    this.server.files.set(to, data);
  }

  async remove(path: string): Promise<void> {
    this.alive();
    this.server.files.delete(path);
  }

  async end(): Promise<void> {
    this.dead = true;
  }
}
