// A one-node Cassandra behind a fake container: tables whose SSTable files
// really live in the node's data volume, nodetool (version, info, snapshot,
// listsnapshots, clearsnapshot) as exec handlers, and a stand-in for
// cassandra-driver's Client answering the CQL the cassandra kind sends.
//
// The kind opens its CQL client itself (cql.ts: new cassandra.Client) and
// has no seam on RunContext yet, so `serveCql` swaps the driver's Client
// export for the length of one test.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import cassandra from 'cassandra-driver';
import type { FakeDocker } from './fake-docker.ts';

interface Table {
  id: string;
  rows: string[];
}

const row = (values: Record<string, unknown>) => ({ get: (name: string) => values[name] });

export class FakeCassandra {
  readonly service: string;
  readonly dataDir: string;
  readonly user: string;
  readonly password: string;
  version = '4.1.5';
  readonly keyspaces = new Map<string, Map<string, Table>>();
  openSessions = 0;
  readonly unknownCql: string[] = [];
  private readonly docker: FakeDocker;

  constructor(docker: FakeDocker, service: string, options: { dataDir: string; user: string; password: string }) {
    this.docker = docker;
    this.service = service;
    this.dataDir = options.dataDir;
    this.user = options.user;
    this.password = options.password;
    this.install();
  }

  /** The data folder on the host, through the container's mounts. */
  private hostData(): string {
    const c = this.docker.container(this.service);
    const mount = c.mounts.filter((m) => this.dataDir === m.target || this.dataDir.startsWith(`${m.target}/`)).sort((a, b) => b.target.length - a.target.length)[0]!;
    return join(this.docker.hostFolder(mount.source), this.dataDir.slice(mount.target.length));
  }

  async addTable(keyspace: string, table: string, rows: number): Promise<void> {
    if (!this.keyspaces.has(keyspace)) this.keyspaces.set(keyspace, new Map());
    const id = `5bc52802-de25-11ed-b5ea-0242ac12${String(this.keyspaces.get(keyspace)!.size).padStart(4, '0')}`;
    const t: Table = { id, rows: Array.from({ length: rows }, (_, i) => JSON.stringify({ id: i, body: `${table} ${i}` })) };
    this.keyspaces.get(keyspace)!.set(table, t);
    const dir = join(this.hostData(), keyspace, `${table}-${id.replace(/-/g, '')}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'nb-1-big-Data.db'), t.rows.join('\n'));
  }

  /** Snapshot tags present in the data folder. */
  async tags(): Promise<string[]> {
    const found = new Set<string>();
    const base = this.hostData();
    for (const ks of await readdir(base).catch(() => [] as string[])) {
      for (const table of await readdir(join(base, ks)).catch(() => [] as string[])) {
        for (const tag of await readdir(join(base, ks, table, 'snapshots')).catch(() => [] as string[])) found.add(tag);
      }
    }
    return [...found].sort();
  }

  private install(): void {
    const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
    const d = this.docker;
    d.onExec(this.service, ['nodetool', 'version'], () => ok(`ReleaseVersion: ${this.version}\n`));
    d.onExec(this.service, ['nodetool', 'info'], () => ok('ID                     : 1\nData Center            : datacenter1\nRack                   : rack1\n'));
    d.onExec(this.service, ['nodetool', 'listsnapshots'], async () => {
      const tags = await this.tags();
      return ok(`Snapshot Details: \n${tags.length ? `Snapshot name Keyspace name Column family name True size Size on disk\n${tags.map((t) => `${t} thehive case 1 KiB 1 KiB`).join('\n')}\n` : 'There are no snapshots\n'}`);
    });
    d.onExec(this.service, ['nodetool', 'snapshot', '-t'], async (call) => {
      const [tag, ...keyspaces] = call.argv.slice(3) as [string, ...string[]];
      for (const ks of keyspaces) {
        for (const [name, table] of this.keyspaces.get(ks) ?? []) {
          const dir = join(this.hostData(), ks, `${name}-${table.id.replace(/-/g, '')}`, 'snapshots', tag);
          await mkdir(dir, { recursive: true });
          await writeFile(join(dir, 'nb-1-big-Data.db'), table.rows.join('\n'));
          await writeFile(join(dir, 'manifest.json'), JSON.stringify({ files: ['nb-1-big-Data.db'] }));
        }
      }
      return ok(`Requested creating snapshot(s) for [${keyspaces.join(', ')}] with snapshot name [${tag}]\n`);
    });
    d.onExec(this.service, ['nodetool', 'clearsnapshot', '-t'], async (call) => {
      const [tag, ...keyspaces] = call.argv.slice(3) as [string, ...string[]];
      for (const ks of keyspaces) {
        for (const table of await readdir(join(this.hostData(), ks)).catch(() => [] as string[])) {
          const snapshots = join(this.hostData(), ks, table, 'snapshots');
          await rm(join(snapshots, tag), { recursive: true, force: true });
          // Like Cassandra, the snapshots folder goes with its last snapshot.
          if ((await readdir(snapshots).catch(() => ['?'])).length === 0) await rm(snapshots, { recursive: true });
        }
      }
      return ok();
    });
  }

  running(): boolean {
    return this.docker.container(this.service).info.state === 'running';
  }

  execute(query: string, params: unknown[]): ReturnType<typeof row>[] {
    const q = query.replace(/\s+/g, ' ').trim();
    let m: RegExpExecArray | null;
    if (q === 'SELECT release_version FROM system.local') return [row({ release_version: this.version })];
    if (q === 'SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?') return this.keyspaces.has(params[0] as string) ? [row({ keyspace_name: params[0] })] : [];
    if (q === 'SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?') {
      return [...(this.keyspaces.get(params[0] as string) ?? [])].map(([name, t]) => row({ table_name: name, id: t.id }));
    }
    if ((m = /^DESCRIBE KEYSPACE "([^"]+)"$/.exec(q))) {
      const ks = m[1]!;
      return [
        row({ type: 'keyspace', name: ks, create_statement: `CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '1'};` }),
        ...[...(this.keyspaces.get(ks) ?? [])].map(([name]) => row({ type: 'table', name, create_statement: `CREATE TABLE ${ks}.${name} (id int PRIMARY KEY, body text);` })),
      ];
    }
    this.unknownCql.push(q);
    throw new Error(`fake cassandra: unexpected CQL: ${q}`);
  }

  scan(query: string): string[] {
    const m = /^SELECT JSON \* FROM "([^"]+)"\."([^"]+)"$/.exec(query.trim());
    const table = m && this.keyspaces.get(m[1]!)?.get(m[2]!);
    if (!table) {
      this.unknownCql.push(query);
      throw new Error(`fake cassandra: unexpected scan: ${query}`);
    }
    return [...table.rows];
  }
}

/** For this test, cassandra-driver's Client talks to the fake nodes at the fake containers' addresses. */
export function serveCql(t: TestContext, docker: FakeDocker, nodes: ReadonlyMap<string, FakeCassandra>): void {
  const driver = cassandra as unknown as { Client: unknown };
  const real = driver.Client;
  class FakeClient {
    private server: FakeCassandra | undefined;
    private readonly options: { contactPoints: string[]; authProvider?: { username?: string; password?: string } };
    constructor(options: FakeClient['options']) {
      this.options = options;
    }
    async connect() {
      const address = this.options.contactPoints[0]!.split(':')[0]!;
      const c = docker.byAddress(address);
      const server = c && nodes.get(c.info.service);
      if (!server?.running()) throw new Error(`All host(s) tried for query failed. First host tried, ${address}: ECONNREFUSED`);
      const auth = this.options.authProvider as { username?: string; password?: string } | undefined;
      if (auth?.username !== server.user || auth?.password !== server.password) throw new Error('Provided username and/or password are incorrect');
      this.server = server;
      server.openSessions++;
    }
    async execute(query: string, params: unknown[] = []) {
      return { rows: this.server!.execute(query, params) };
    }
    stream(query: string) {
      const rows = this.server!.scan(query);
      return (async function* () {
        for (const json of rows) yield row({ '[json]': json });
      })();
    }
    async shutdown() {
      if (this.server) this.server.openSessions--;
      this.server = undefined;
    }
  }
  driver.Client = FakeClient;
  t.after(() => {
    driver.Client = real;
  });
}
