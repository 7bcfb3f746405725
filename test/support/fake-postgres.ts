// An in-memory Postgres server behind one fake container: databases of
// tables holding rows, roles, exported snapshots; the few SQL statements the
// postgres kind sends (anything else is refused loudly, so a new query in
// src is noticed here); and pg_dump, pg_dumpall, psql and pg_restore as exec
// handlers that really write and read the dump through the container's
// bind-mounted backup folder (a FIFO on backup).
import { createWriteStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunContext } from '../../src/components/component.ts';
import { INIT_SCRIPT_NAME } from '../../src/components/postgres/pg-restore.ts';
import type { ExecCall, FakeDocker } from './fake-docker.ts';

type Connect = NonNullable<NonNullable<RunContext['connect']>['postgres']>;
type Settings = Parameters<Connect>[0];
type Client = ReturnType<Connect>;

/** schema.table → rows. */
export type Tables = Map<string, string[]>;

interface Database {
  owner: string;
  tables: Tables;
}

const copy = (tables: Tables): Tables => new Map([...tables].map(([k, v]) => [k, [...v]]));
const unquote = (q: string) => q.slice(1, -1).replace(/""/g, '"');
const SYSTEM = ['postgres', 'template0', 'template1'];

export class FakePostgres {
  readonly service: string;
  readonly user: string;
  readonly password: string;
  version = '16.4';
  readonly databases = new Map<string, Database>();
  readonly roles = new Map<string, string>();
  readonly snapshots = new Map<string, Tables>();
  /** Clients connected and not yet ended. */
  openClients = 0;
  /** SQL the fake does not know (it throws for them). */
  readonly unknownSql: string[] = [];
  /** Set to make pg_dump of this database fail. */
  failDumpOf: string | undefined;
  private snapshotCounter = 0;

  constructor(docker: FakeDocker, service: string, user: string, password: string) {
    this.service = service;
    this.user = user;
    this.password = password;
    this.databases.set('postgres', { owner: user, tables: new Map() });
    this.roles.set(user, 'SUPERUSER LOGIN');
    this.install(docker);
  }

  /** A database with `rows[table]` rows of sample text. */
  addDatabase(name: string, tables: Record<string, number>): void {
    const t: Tables = new Map();
    for (const [table, n] of Object.entries(tables)) t.set(table, Array.from({ length: n }, (_, i) => `${name}.${table} row ${i} ${'x'.repeat(i % 17)}`));
    this.databases.set(name, { owner: this.user, tables: t });
  }

  counts(database: string): Record<string, number> {
    const db = this.databases.get(database);
    if (!db) throw new Error(`fake postgres: no database ${database}`);
    return Object.fromEntries([...db.tables].map(([k, v]) => [k, v.length]));
  }

  userDatabases(): string[] {
    return [...this.databases.keys()].filter((d) => !SYSTEM.includes(d)).sort();
  }

  // ---- the client ------------------------------------------------------

  client(settings: Settings, running: () => boolean): Client {
    let connected = false;
    let snapshot: Tables | undefined;
    const server = this;
    const db = () => {
      const found = server.databases.get(settings.database);
      if (!found) throw new Error(`database "${settings.database}" does not exist`);
      return found;
    };
    const result = <R>(rows: R[]) => ({ rows, rowCount: rows.length });
    return {
      async connect() {
        if (!running()) throw new Error(`connect ECONNREFUSED ${settings.host}:${settings.port}`);
        if (settings.user !== server.user || settings.password !== server.password) throw new Error(`password authentication failed for user "${settings.user}"`);
        db();
        connected = true;
        server.openClients++;
      },
      async end() {
        if (connected) server.openClients--;
        connected = false;
      },
      async query<R>(text: string, values: unknown[] = []) {
        if (!connected) throw new Error('Client was closed and is not queryable');
        if (!running()) throw new Error('Connection terminated unexpectedly');
        const sql = text.replace(/\s+/g, ' ').trim();
        const rows = (r: Record<string, unknown>[]) => result(r as R[]);
        let m: RegExpExecArray | null;
        if (sql === 'show server_version') return rows([{ server_version: server.version }]);
        if (sql === 'select 1') return rows([{ '?column?': 1 }]);
        if (sql === 'select datname from pg_database') return rows([...server.databases.keys()].map((datname) => ({ datname })));
        if (sql === 'select coalesce(sum(pg_database_size(datname)), 0) as bytes from pg_database where datname = any($1)') {
          const names = values[0] as string[];
          const bytes = names.reduce((s, n) => s + 7_000_000 + JSON.stringify([...(server.databases.get(n)?.tables ?? [])]).length, 0);
          return rows([{ bytes: String(bytes) }]);
        }
        if (sql === 'begin isolation level repeatable read read only') {
          snapshot = copy(db().tables);
          return rows([]);
        }
        if (sql === 'select pg_export_snapshot() as id') {
          if (!snapshot) throw new Error('fake postgres: pg_export_snapshot outside a transaction');
          const id = `00000003-0000001B-${++server.snapshotCounter}`;
          server.snapshots.set(id, snapshot);
          return rows([{ id }]);
        }
        if (sql === 'commit' || sql === 'rollback') {
          for (const [id, s] of server.snapshots) if (s === snapshot) server.snapshots.delete(id);
          snapshot = undefined;
          return rows([]);
        }
        if (sql.startsWith('select n.nspname as schema, c.relname as name from pg_class c')) {
          const tables = snapshot ?? db().tables;
          return rows([...tables.keys()].sort().map((k) => ({ schema: k.split('.')[0], name: k.split('.').slice(1).join('.') })));
        }
        if ((m = /^select count\(\*\) as n from ("(?:[^"]|"")+")\.("(?:[^"]|"")+")$/.exec(sql))) {
          const tables = snapshot ?? db().tables;
          const key = `${unquote(m[1]!)}.${unquote(m[2]!)}`;
          if (!tables.has(key)) throw new Error(`relation "${key}" does not exist`);
          return rows([{ n: String(tables.get(key)!.length) }]);
        }
        if (sql === 'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1') {
          const found = server.databases.get(values[0] as string);
          return rows(found ? [{ owner: found.owner }] : []);
        }
        if (sql === 'select 1 from pg_database where datname = $1') return rows(server.databases.has(values[0] as string) ? [{ '?column?': 1 }] : []);
        if (sql === 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()') return rows([]);
        if ((m = /^drop database (if exists )?("(?:[^"]|"")+")( with \(force\))?$/.exec(sql))) {
          const name = unquote(m[2]!);
          if (!server.databases.has(name) && !m[1]) throw new Error(`database "${name}" does not exist`);
          server.databases.delete(name);
          return rows([]);
        }
        if ((m = /^create database ("(?:[^"]|"")+") template template0( owner ("(?:[^"]|"")+"))?$/.exec(sql))) {
          const name = unquote(m[1]!);
          if (server.databases.has(name)) throw new Error(`database "${name}" already exists`);
          server.databases.set(name, { owner: m[3] ? unquote(m[3]) : settings.user, tables: new Map() });
          return rows([]);
        }
        if ((m = /^alter database ("(?:[^"]|"")+") rename to ("(?:[^"]|"")+")$/.exec(sql))) {
          const [from, to] = [unquote(m[1]!), unquote(m[2]!)];
          const found = server.databases.get(from);
          if (!found) throw new Error(`database "${from}" does not exist`);
          if (server.databases.has(to)) throw new Error(`database "${to}" already exists`);
          server.databases.delete(from);
          server.databases.set(to, found);
          return rows([]);
        }
        server.unknownSql.push(sql);
        throw new Error(`fake postgres: unexpected SQL: ${sql}`);
      },
    };
  }

  // ---- the tools in the container ----------------------------------------

  private authorised(call: ExecCall): string | undefined {
    if (call.options.env?.PGPASSWORD !== this.password) return 'fe_sendauth: no password supplied';
    return undefined;
  }

  private dumpOf(tables: Tables): string {
    return `PGDMP\n${JSON.stringify(Object.fromEntries(tables))}`;
  }

  private async restoreDump(path: string, into: string): Promise<void> {
    const text = await readFile(path, 'utf8');
    if (!text.startsWith('PGDMP\n')) throw new Error(`pg_restore: error: input file does not appear to be a valid archive`);
    const tables = JSON.parse(text.slice(6)) as Record<string, string[]>;
    const db = this.databases.get(into);
    if (!db) throw new Error(`pg_restore: error: database "${into}" does not exist`);
    db.tables = new Map(Object.entries(tables));
  }

  private loadGlobals(sql: string): void {
    for (const m of sql.matchAll(/CREATE ROLE ([^;]+);/g)) if (!this.roles.has(m[1]!)) this.roles.set(m[1]!, '');
    for (const m of sql.matchAll(/^ALTER ROLE (\S+) WITH ([^;]*);$/gm)) this.roles.set(m[1]!, m[2]!);
  }

  globals(): string {
    return [...this.roles].map(([r, attrs]) => `CREATE ROLE ${r};\nALTER ROLE ${r} WITH ${attrs};\n`).join('');
  }

  private install(docker: FakeDocker): void {
    const fail = (stderr: string) => ({ exitCode: 1, stdout: '', stderr });
    docker.onExec(this.service, ['pg_dump', '--version'], () => ({ exitCode: 0, stdout: `pg_dump (PostgreSQL) ${this.version}\n`, stderr: '' }));
    docker.onExec(this.service, ['pg_dumpall', '--globals-only'], (call) => {
      const denied = this.authorised(call);
      return denied ? fail(denied) : { exitCode: 0, stdout: `--\n-- PostgreSQL database cluster dump\n--\n\n${this.globals()}`, stderr: '' };
    });
    docker.onExec(this.service, ['pg_dump', '--format=custom'], async (call) => {
      const arg = (name: string) => call.argv[call.argv.indexOf(name) + 1]!;
      const file = call.hostPath(arg('--file'));
      const database = arg('--dbname');
      const snapshotId = call.argv.find((a) => a.startsWith('--snapshot='))?.slice('--snapshot='.length);
      const denied = this.authorised(call);
      const tables = snapshotId ? this.snapshots.get(snapshotId) : this.databases.get(database)?.tables;
      const problem = denied ?? (database === this.failDumpOf ? `pg_dump: error: query failed: could not read block 0 of "${database}"` : undefined) ?? (tables ? undefined : `pg_dump: error: invalid snapshot identifier: "${snapshotId}"`);
      // Like pg_dump, the file (here a FIFO) is opened either way; a failed dump writes nothing into it.
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(file);
        out.on('error', reject);
        out.end(problem ? '' : this.dumpOf(tables!), () => resolve());
      });
      return problem ? fail(problem) : { exitCode: 0, stdout: '', stderr: '' };
    });
    docker.onExec(this.service, ['psql'], async (call) => {
      const denied = this.authorised(call);
      if (denied) return fail(denied);
      const file = call.argv[call.argv.indexOf('--file') + 1];
      if (!file) return fail('fake psql: only --file is supported');
      const sql = await readFile(call.hostPath(file), 'utf8').catch(() => undefined);
      if (sql === undefined) return fail(`psql: error: ${file}: No such file or directory`);
      this.loadGlobals(sql);
      return { exitCode: 0, stdout: '', stderr: '' };
    });
    docker.onExec(this.service, ['pg_restore'], async (call) => {
      const denied = this.authorised(call);
      if (denied) return fail(denied);
      try {
        await this.restoreDump(call.hostPath(call.argv.at(-1)!), call.argv[call.argv.indexOf('--dbname') + 1]!);
        return { exitCode: 0, stdout: '', stderr: '' };
      } catch (error) {
        return fail((error as Error).message);
      }
    });
  }

  /**
   * The official image's entrypoint on a container start: an empty data
   * folder is initialised and the init scripts run, among them hossadm's
   * restore script, emulated here from what it reads and writes.
   */
  async entrypoint(dataDir: string | undefined, initScriptsDir: string | undefined, restoreDir: string): Promise<void> {
    if (!dataDir) return;
    if ((await readdir(dataDir).catch(() => [])).length > 0) return;
    await writeFile(join(dataDir, 'PG_VERSION'), `${this.version.split('.')[0]}\n`);
    const scripts = initScriptsDir ? await readdir(initScriptsDir).catch(() => [] as string[]) : [];
    if (!scripts.includes(INIT_SCRIPT_NAME)) return;
    const status = join(restoreDir, 'status');
    try {
      const list = await readFile(join(restoreDir, 'databases'), 'utf8');
      await writeFile(status, 'running\n');
      this.loadGlobals(await readFile(join(restoreDir, 'globals.sql'), 'utf8'));
      for (const db of list.split('\n').filter(Boolean)) {
        if (!this.databases.has(db)) this.databases.set(db, { owner: this.user, tables: new Map() });
        await this.restoreDump(join(restoreDir, `${db}.dump`), db);
      }
      await writeFile(status, 'ok\n');
    } catch (error) {
      await writeFile(status, `failed: ${(error as Error).message}\n`);
    }
  }
}
