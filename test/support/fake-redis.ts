// An in-memory Redis 7.0 behind one fake container, speaking real RESP2
// over a loopback socket, so the redis kind's own client code runs. It keeps
// the persistence rules that matter to a restore, in files of the data
// folder mounted into its container: on stop it saves dump.rdb (and, with
// appendonly yes, an AOF whose base is the same data); on start it loads the
// AOF when appendonly is yes (and starts EMPTY when there is none, the trap
// of REFERENCE-STACKS §4), else dump.rdb. Its "RDB" is "REDIS0010" plus
// JSON. `redis-cli --rdb` and the kind's shell one-liners are answered as
// execs. Strings, hashes, lists and sets only; streams are for the real
// engine's tests.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { redisTransport } from '../../src/components/redis/resp.ts';
import type { FakeDocker } from './fake-docker.ts';

type Value = { type: 'string'; value: Buffer } | { type: 'hash'; value: Map<string, Buffer> } | { type: 'list'; value: Buffer[] } | { type: 'set'; value: Map<string, Buffer> };
interface Entry { key: Buffer; data: Value; expireAt?: number }
type Db = Map<string, Entry>;

const MAGIC = 'REDIS0010';
const hex = (b: Buffer) => b.toString('hex');

function serialize(dbs: Map<number, Db>): Buffer {
  const out: unknown[] = [];
  for (const [db, entries] of dbs) {
    for (const e of entries.values()) {
      const v = e.data;
      const value = v.type === 'string' ? hex(v.value) : v.type === 'list' ? v.value.map(hex) : [...v.value].map(([k, b]) => [k, hex(b)]);
      out.push({ db, key: hex(e.key), type: v.type, value, expireAt: e.expireAt });
    }
  }
  return Buffer.concat([Buffer.from(MAGIC), Buffer.from(JSON.stringify(out))]);
}

function deserialize(bytes: Buffer): Map<number, Db> {
  if (bytes.subarray(0, 5).toString() !== 'REDIS') throw new Error('fake redis: not an RDB file');
  const dbs = new Map<number, Db>();
  for (const item of JSON.parse(bytes.subarray(MAGIC.length).toString()) as { db: number; key: string; type: Value['type']; value: unknown; expireAt?: number }[]) {
    const key = Buffer.from(item.key, 'hex');
    let data: Value;
    if (item.type === 'string') data = { type: 'string', value: Buffer.from(item.value as string, 'hex') };
    else if (item.type === 'list') data = { type: 'list', value: (item.value as string[]).map((h) => Buffer.from(h, 'hex')) };
    else data = { type: item.type, value: new Map((item.value as [string, string][]).map(([k, h]) => [k, Buffer.from(h, 'hex')])) } as Value;
    if (!dbs.has(item.db)) dbs.set(item.db, new Map());
    dbs.get(item.db)!.set(item.key, { key, data, ...(item.expireAt === undefined ? {} : { expireAt: item.expireAt }) });
  }
  return dbs;
}

export class FakeRedis {
  readonly service: string;
  readonly password: string | undefined;
  version = '7.0.15';
  appendonly: boolean;
  readonly dataDir = '/data';
  dbs = new Map<number, Db>();
  /** repl-diskless-sync-delay as set, oldest first (the server's default first). */
  syncDelays = ['5'];
  /** The delay each `redis-cli --rdb` was served with. */
  rdbDelays: string[] = [];
  /** Connections open right now. */
  openConnections = 0;
  readonly unknownCommands: string[] = [];
  rewrites = 0;
  private readonly docker: FakeDocker;
  private server: Server | undefined;
  port = 0;

  constructor(docker: FakeDocker, service: string, options: { password?: string; appendonly?: boolean }) {
    this.docker = docker;
    this.service = service;
    this.password = options.password;
    this.appendonly = options.appendonly ?? true;
    docker.onStateChange.push((c) => {
      if (c.info.service !== service) return;
      if (c.info.state === 'running') this.load();
      else this.save();
    });
    this.installExecs();
  }

  db(n: number): Db {
    if (!this.dbs.has(n)) this.dbs.set(n, new Map());
    return this.dbs.get(n)!;
  }

  set(db: number, key: string | Buffer, data: Value, expireAt?: number): void {
    const k = Buffer.isBuffer(key) ? key : Buffer.from(key);
    this.db(db).set(hex(k), { key: k, data, ...(expireAt === undefined ? {} : { expireAt }) });
  }

  keyCount(): number {
    return [...this.dbs.values()].reduce((n, d) => n + d.size, 0);
  }

  /** The data folder on the host, through the container's mounts. */
  hostData(): string {
    const c = this.docker.container(this.service);
    const mount = c.mounts.filter((m) => this.dataDir === m.target || this.dataDir.startsWith(`${m.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
    return join(this.docker.hostFolder(mount.source), this.dataDir.slice(mount.target.length));
  }

  private save(): void {
    const dir = this.hostData();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dump.rdb'), serialize(this.dbs));
    if (this.appendonly) {
      mkdirSync(join(dir, 'appendonlydir'), { recursive: true });
      writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.3.base.rdb'), serialize(this.dbs));
      writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.3.incr.aof'), '');
      writeFileSync(join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n');
    }
  }

  private load(): void {
    const dir = this.hostData();
    if (this.appendonly) {
      const manifest = join(dir, 'appendonlydir', 'appendonly.aof.manifest');
      // Redis 7.0: AOF on and no AOF means an empty server, whatever dump.rdb holds.
      if (!existsSync(manifest)) {
        this.dbs = new Map();
        return;
      }
      const base = /^file (\S+) seq \d+ type b$/m.exec(readFileSync(manifest, 'utf8'))?.[1];
      this.dbs = base ? deserialize(readFileSync(join(dir, 'appendonlydir', base))) : new Map();
      return;
    }
    const rdb = join(dir, 'dump.rdb');
    this.dbs = existsSync(rdb) ? deserialize(readFileSync(rdb)) : new Map();
  }

  private running(): boolean {
    return this.docker.container(this.service).info.state === 'running';
  }

  private installExecs(): void {
    this.docker.onExec(this.service, ['redis-cli'], (call) => {
      const at = call.argv.indexOf('--rdb');
      if (at < 0) return { exitCode: 1, stdout: '', stderr: 'fake redis-cli: only --rdb is answered' };
      if (this.password !== undefined && call.options.env?.REDISCLI_AUTH !== this.password) return { exitCode: 1, stdout: '', stderr: 'AUTH failed: WRONGPASS' };
      if (call.argv.some((a) => a === this.password)) return { exitCode: 1, stdout: '', stderr: 'fake redis-cli: the password is in argv' };
      this.rdbDelays.push(this.syncDelays.at(-1)!);
      writeFileSync(call.hostPath(call.argv[at + 1]!), serialize(this.dbs));
      return { exitCode: 0, stdout: '', stderr: 'Transfer finished with success.' };
    });
    this.docker.onExec(this.service, ['rm', '-f', '--'], (call) => {
      rmSync(call.hostPath(call.argv[3]!), { force: true });
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    this.docker.onExec(this.service, ['sh', '-c'], (call) => {
      // The leftover sweep: hossadm-*.rdb in the folder named by $1.
      const dir = call.hostPath(call.argv[4]!);
      const removed = (existsSync(dir) ? readdirSync(dir) : []).filter((n) => /^hossadm-.*\.rdb$/.test(n));
      for (const name of removed) rmSync(join(dir, name));
      return { exitCode: 0, stdout: removed.map((n) => `${call.argv[4]}/${n}\n`).join(''), stderr: '' };
    });
  }

  /** Answers one command; throws a string for an error reply. */
  private command(state: { authed: boolean; db: number }, args: Buffer[]): unknown {
    const name = args[0]!.toString().toUpperCase();
    const arg = (i: number) => args[i]!.toString();
    if (name === 'AUTH') {
      if (this.password === undefined) throw 'ERR AUTH <password> called without any password configured for the default user';
      if (arg(1) !== this.password) throw 'WRONGPASS invalid username-password pair or user is disabled.';
      state.authed = true;
      return 'OK';
    }
    if (this.password !== undefined && !state.authed) throw 'NOAUTH Authentication required.';
    const db = this.db(state.db);
    const entry = (k: Buffer) => db.get(hex(k));
    switch (name) {
      case 'PING':
        return 'PONG';
      case 'SELECT':
        state.db = Number(arg(1));
        return 'OK';
      case 'INFO': {
        const section = arg(1);
        if (section === 'server') return Buffer.from(`# Server\r\nredis_version:${this.version}\r\n`);
        if (section === 'memory') return Buffer.from(`# Memory\r\nused_memory:1000000\r\nused_memory_dataset:${this.keyCount() * 100}\r\n`);
        if (section === 'persistence') return Buffer.from(`# Persistence\r\nloading:0\r\naof_enabled:${this.appendonly ? 1 : 0}\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:ok\r\n`);
        if (section === 'keyspace') return Buffer.from(`# Keyspace\r\n${[...this.dbs].filter(([, d]) => d.size > 0).map(([n, d]) => `db${n}:keys=${d.size},expires=0,avg_ttl=0\r\n`).join('')}`);
        break;
      }
      case 'CONFIG':
        if (arg(1) === 'SET' && arg(2) === 'repl-diskless-sync-delay') {
          this.syncDelays.push(arg(3));
          return 'OK';
        }
        if (arg(2) === 'repl-diskless-sync-delay') return ['repl-diskless-sync-delay', this.syncDelays.at(-1)!].map((s) => Buffer.from(s));
        return ['dir', this.dataDir, 'dbfilename', 'dump.rdb', 'appendonly', this.appendonly ? 'yes' : 'no', 'appendfilename', 'appendonly.aof', 'appenddirname', 'appendonlydir'].map((s) => Buffer.from(s));
      case 'BGREWRITEAOF':
        this.rewrites++;
        return 'Background append only file rewriting started';
      case 'SCAN':
        return [Buffer.from('0'), [...db.values()].map((e) => e.key)];
      case 'TYPE':
        return entry(args[1]!)?.data.type ?? 'none';
      case 'PEXPIRETIME': {
        const e = entry(args[1]!);
        return e ? e.expireAt ?? -1 : -2;
      }
      case 'GET':
        return (entry(args[1]!)?.data as { value: Buffer } | undefined)?.value ?? null;
      case 'HGETALL':
        return [...((entry(args[1]!)?.data.value as Map<string, Buffer>) ?? new Map())].flatMap(([k, v]) => [Buffer.from(k, 'hex'), v]);
      case 'SMEMBERS':
        return [...((entry(args[1]!)?.data.value as Map<string, Buffer>) ?? new Map()).values()];
      case 'LRANGE':
        return (entry(args[1]!)?.data.value as Buffer[]) ?? [];
      case 'SET':
        this.set(state.db, args[1]!, { type: 'string', value: args[2]! });
        return 'OK';
    }
    this.unknownCommands.push(args.map((a) => a.toString()).join(' '));
    throw `ERR unknown command '${name}'`;
  }

  private encode(value: unknown): Buffer {
    if (value === null) return Buffer.from('$-1\r\n');
    if (typeof value === 'number') return Buffer.from(`:${value}\r\n`);
    if (typeof value === 'string') return Buffer.from(`+${value}\r\n`);
    if (Buffer.isBuffer(value)) return Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, Buffer.from('\r\n')]);
    const items = value as unknown[];
    return Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items.map((i) => this.encode(i))]);
  }

  private serve(socket: Socket): void {
    this.openConnections++;
    socket.on('close', () => this.openConnections--);
    const state = { authed: false, db: 0 };
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const parsed = parseCommand(buffer);
        if (!parsed) break;
        buffer = buffer.subarray(parsed.end);
        if (!this.running()) {
          socket.destroy();
          return;
        }
        try {
          socket.write(this.encode(this.command(state, parsed.args)));
        } catch (error) {
          if (typeof error !== 'string') throw error;
          socket.write(`-${error}\r\n`);
        }
      }
    });
    socket.on('error', () => undefined);
  }

  async listen(): Promise<void> {
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function parseCommand(buffer: Buffer): { args: Buffer[]; end: number } | undefined {
  let at = buffer.indexOf('\r\n');
  if (at < 0 || buffer[0] !== 0x2a) return undefined;
  const count = Number(buffer.toString('utf8', 1, at));
  let pos = at + 2;
  const args: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    at = buffer.indexOf('\r\n', pos);
    if (at < 0) return undefined;
    const length = Number(buffer.toString('utf8', pos + 1, at));
    if (buffer.length < at + 2 + length + 2) return undefined;
    args.push(Buffer.from(buffer.subarray(at + 2, at + 2 + length)));
    pos = at + 2 + length + 2;
  }
  return { args, end: pos };
}

/** For this test, the redis kind's connections to a fake container's address reach that container's FakeRedis. */
export async function serveRedis(t: TestContext, docker: FakeDocker, servers: ReadonlyMap<string, FakeRedis>): Promise<void> {
  for (const server of servers.values()) await server.listen();
  const real = redisTransport.connect;
  redisTransport.connect = (host, port) => {
    const c = docker.byAddress(host);
    const server = c && servers.get(c.info.service);
    // Port 1 on loopback refuses at once, as a stopped container's address would.
    return real('127.0.0.1', server && c.info.state === 'running' && port === 6379 ? server.port : 1);
  };
  t.after(async () => {
    redisTransport.connect = real;
    for (const server of servers.values()) await server.close();
  });
}
