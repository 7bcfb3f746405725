// A whole stack on the fake engine: a temp host with a config folder, a
// BACKUP_ROOT, bind-mounted data folders and named volumes with real files
// in them, the compose project's containers, and in-memory Postgres and
// search servers behind their services. `serveFakes` points every kind's
// server clients at those servers for one test (see the note there), `up`
// is a stack starter for a fresh-host restore and `wipe` makes the host
// fresh again.
import { chmod, link, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { lstat, readlink, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Component, RunContext } from '../../src/components/component.ts';
import { registeredKinds } from '../../src/components/index.ts';
import { loadProfile, validateProfile, type Profile } from '../../src/config/profile.ts';
import { loadStackConfig, type StackConfig } from '../../src/config/stack-config.ts';
import type { BackupDeps } from '../../src/core/backup.ts';
import type { RestoreDeps } from '../../src/core/restore.ts';
import { AssumeYesPrompter } from '../../src/ui/prompter.ts';
import { SilentReporter } from '../../src/ui/reporter.ts';
import { FakeDocker } from './fake-docker.ts';
import { FakePostgres } from './fake-postgres.ts';
import { FakeSearch } from './fake-search.ts';

export type Connect = NonNullable<RunContext['connect']>;

export const PASSWORD = 'Pw-s3cret-2718';

export async function tempRoot(t: TestContext, prefix = 'hossadm-fake-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A component whose server clients come from `connect`. The engines build
 * each RunContext themselves and take no `connect` (src/core would have to
 * pass one through), so the tests hand it to every instance here instead.
 */
export function connected(component: Component, connect: Connect): Component {
  const withConnect = <C extends RunContext>(ctx: C): C => ({ ...ctx, connect });
  return {
    id: component.id,
    kind: component.kind,
    planBackup: (config) => component.planBackup(config),
    keepRunning: () => component.keepRunning(),
    hostPaths: () => component.hostPaths(),
    restoresInto: (member) => component.restoresInto(member),
    probes: () => component.probes().map((p) => ({ name: p.name, run: (ctx: RunContext) => p.run(withConnect(ctx)) })),
    preflightBackup: (ctx) => component.preflightBackup(withConnect(ctx)),
    backup: (ctx) => component.backup(withConnect(ctx)),
    restore: (ctx) => component.restore(withConnect(ctx)),
  };
}

/** Every instance a registered kind creates during this test reaches its servers through `connect`. */
export function serveFakes(t: TestContext, connect: Connect): void {
  for (const kind of registeredKinds()) {
    const create = kind.create;
    kind.create = (id, config, values) => connected(create.call(kind, id, config, values), connect);
    t.after(() => {
      kind.create = create;
    });
  }
}

export interface ServiceDef {
  service: string;
  /** Container path → host path. */
  binds?: Record<string, string>;
  /** Container path → volume name as compose files write it (the engine's carries the project prefix). */
  volumes?: Record<string, string>;
  postgres?: { user: string; password: string; dataDir?: string; initScriptsDir?: string; restoreDir?: string; seed?: (pg: FakePostgres) => void };
  search?: { pathRepo: string; flavour?: 'opensearch' | 'elasticsearch'; seed?: (s: FakeSearch) => void };
}

export interface StackSpec {
  profile: Profile;
  project: string;
  /** The .env, HOSS_DIR-style folder variable excluded. */
  env: Record<string, string>;
  services: ServiceDef[];
  /** Fills the config folder and the volumes with files. */
  files?: (stack: FakeStack) => Promise<void>;
}

export class FakeStack {
  readonly root: string;
  readonly configDir: string;
  readonly spec: StackSpec;
  readonly docker: FakeDocker;
  readonly postgres = new Map<string, FakePostgres>();
  readonly search = new Map<string, FakeSearch>();
  readonly reporter = new SilentReporter();

  constructor(root: string, spec: StackSpec) {
    this.root = root;
    this.configDir = join(root, 'stack');
    this.spec = spec;
    this.docker = new FakeDocker(join(root, 'engine'));
  }

  get backupRoot(): string {
    return this.spec.env.BACKUP_ROOT ?? join(this.configDir, 'backup');
  }

  volumeName(name: string): string {
    return `${this.spec.project}_${name}`;
  }

  volumePath(name: string): string {
    return this.docker.hostFolder(this.volumeName(name));
  }

  readonly connect: Connect = {
    postgres: (settings) => {
      const c = this.docker.byAddress(settings.host);
      const server = c && this.postgres.get(c.info.service);
      if (!c || !server) return { connect: async () => { throw new Error(`connect ECONNREFUSED ${settings.host}:${settings.port}`); }, query: async () => { throw new Error('not connected'); }, end: async () => undefined };
      return server.client(settings, () => c.info.state === 'running');
    },
    search: (node) => {
      const c = this.docker.byAddress(new URL(node).hostname);
      const server = c && this.search.get(c.info.service);
      if (!server) throw new Error(`fake search: nothing listens at ${node}`);
      return server.transport();
    },
  };

  /** Creates the containers (and, with `seed`, the servers' first data). */
  /** Creates the services' containers (only `only`, when given), like `compose up -d`: running ones stay as they are. */
  async up(seed = false, only?: readonly string[]): Promise<void> {
    const present = new Set([...this.docker.containers.values()].map((c) => c.info.service));
    for (const def of this.spec.services) {
      if (present.has(def.service) || (only && only.length > 0 && !only.includes(def.service))) continue;
      const mounts = [
        ...Object.entries(def.binds ?? {}).map(([target, source]) => ({ type: 'bind' as const, source, target })),
        ...Object.entries(def.volumes ?? {}).map(([target, name]) => ({ type: 'volume' as const, source: this.volumeName(name), target })),
      ];
      for (const m of mounts) {
        if (m.type === 'bind') await mkdir(m.source, { recursive: true });
        else await this.docker.createVolume(m.source, { 'com.docker.compose.project': this.spec.project });
      }
      this.docker.addContainer(this.spec.project, def.service, mounts);
      if (def.postgres) {
        const pg = new FakePostgres(this.docker, def.service, def.postgres.user, def.postgres.password);
        this.postgres.set(def.service, pg);
        if (seed) def.postgres.seed?.(pg);
        await pg.entrypoint(def.postgres.dataDir, def.postgres.initScriptsDir, def.postgres.restoreDir ?? '/nonexistent');
      }
      if (def.search) {
        const s = new FakeSearch(this.docker, def.service, { pathRepo: def.search.pathRepo, ...(def.search.flavour ? { flavour: def.search.flavour } : {}) });
        this.search.set(def.service, s);
        if (seed) def.search.seed?.(s);
      }
    }
  }

  async writeEnv(): Promise<void> {
    const text = `${Object.entries(this.spec.env).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
    await mkdir(this.configDir, { recursive: true });
    await writeFile(join(this.configDir, '.env'), text, { mode: 0o600 });
  }

  /** A fresh host: no containers, volumes, servers or files, the given paths kept aside. */
  async wipe(): Promise<void> {
    for (const c of [...this.docker.containers.values()]) await this.docker.removeContainer(c.info.id);
    for (const v of [...this.docker.volumes.keys()]) await this.docker.removeVolume(v);
    this.postgres.clear();
    this.search.clear();
    for (const name of await readdir(this.root)) if (name !== 'engine' && name !== 'kept') await rm(join(this.root, name), { recursive: true, force: true });
  }

  config(): Promise<StackConfig> {
    return loadStackConfig(this.spec.profile, { configDir: this.configDir, environment: {}, home: this.root });
  }

  async backupDeps(signal = new AbortController().signal): Promise<BackupDeps> {
    return { config: await this.config(), docker: this.docker, reporter: this.reporter, prompter: new AssumeYesPrompter(), signal, toolVersion: '0.1.0-test' };
  }

  restoreDeps(signal = new AbortController().signal): RestoreDeps {
    return {
      profile: this.spec.profile,
      source: { configDir: this.configDir, environment: {}, home: this.root },
      docker: this.docker,
      reporter: this.reporter,
      prompter: new AssumeYesPrompter(),
      signal,
      starter: (_config, services) => this.up(false, services),
    };
  }

  /** Containers of services that no instance keeps running. */
  writers(): string[] {
    const servers = new Set([...this.postgres.keys(), ...this.search.keys()]);
    return this.spec.services.map((s) => s.service).filter((s) => !servers.has(s)).sort();
  }
}

export async function buildStack(t: TestContext, make: (root: string) => StackSpec | Promise<StackSpec>): Promise<FakeStack> {
  const root = await tempRoot(t);
  const stack = new FakeStack(root, await make(root));
  await stack.writeEnv();
  await stack.up(true);
  await stack.spec.files?.(stack);
  serveFakes(t, stack.connect);
  return stack;
}

/** Every file below `dir` with its type, mode, size, link target and content digest: equal listings mean equal trees. */
export async function treeListing(dir: string, skip: (path: string) => boolean = () => false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(dir, rel)).catch(() => [] as string[])).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (skip(path)) continue;
      const st = await lstat(join(dir, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${path} -> ${await readlink(join(dir, path))}`);
      else if (st.isDirectory()) {
        out.push(`${path}/ ${mode} ${st.uid}:${st.gid}`);
        await walk(path);
      } else if (st.isFIFO()) out.push(`${path} fifo`);
      else out.push(`${path} ${mode} ${st.uid}:${st.gid} ${st.size} ${st.nlink} ${(await readFile(join(dir, path))).toString('base64').slice(0, 40)} ${Math.floor(st.mtimeMs / 1000)}`);
    }
  };
  await walk('');
  return out;
}

/**
 * The hoss profile on the fake engine: config folder, Postgres (two databases), OpenSearch, four volumes, four writers.
 * `adjust` changes the services (which writer mounts which volume) before they are created.
 */
export function hossStack(t: TestContext, profile?: Profile, adjust: (services: ServiceDef[]) => ServiceDef[] = (s) => s): Promise<FakeStack> {
  return buildStack(t, async (root) => {
    const hossDir = join(root, 'stack');
    const backupRoot = join(hossDir, 'backup');
    const env = {
      COMPOSE_PROJECT_NAME: 'server',
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: PASSWORD,
      POSTGRES_CORE_DB: 'hoss_core',
      POSTGRES_AUTH_DB: 'hoss_auth',
      DB_ROOT: join(root, 'db'),
      DB_INIT_SCRIPTS: join(root, 'init'),
      HOSS_VERSION: '0.2.13',
      HOSSADM_UP_COMMAND: 'true',
    };
    const services: ServiceDef[] = [
        {
          service: 'db',
          binds: { '/mnt/backup': join(backupRoot, '.db'), '/var/lib/postgresql/data': env.DB_ROOT, '/docker-entrypoint-initdb.d': env.DB_INIT_SCRIPTS },
          postgres: {
            user: 'postgres', password: PASSWORD, dataDir: env.DB_ROOT, initScriptsDir: env.DB_INIT_SCRIPTS, restoreDir: join(backupRoot, '.db', 'hossadm-restore-postgres'),
            seed: (pg) => {
              pg.addDatabase('hoss_core', { 'public.cases': 40, 'public.users': 7, 'audit.events': 120 });
              pg.addDatabase('hoss_auth', { 'public.tokens': 12 });
              pg.roles.set('hoss_app', "LOGIN PASSWORD 'SCRAM-SHA-256$4096:abc'");
            },
          },
        },
        {
          service: 'opensearch',
          binds: { '/mnt/snapshots': join(backupRoot, '.opensearch'), '/usr/share/opensearch/data': join(hossDir, 'data', 'opensearch') },
          search: { pathRepo: '/mnt/snapshots', seed: (s) => { s.addIndex('cases', 40); s.addIndex('attachments', 9); s.addIndex('.opensearch-system', 3); } },
        },
        { service: 'ldap', volumes: { '/var/lib/ldap': 'ldap-vol0', '/etc/ldap/slapd.d': 'ldap-vol1' } },
        { service: 'auth', volumes: { '/secrets': 'auth-secrets' } },
        { service: 'rabbitmq', volumes: { '/var/lib/rabbitmq': 'rabbitmq-data' } },
        { service: 'core' },
    ];
    return {
      profile: profile ?? (await loadProfile('hoss')),
      project: 'server',
      env,
      services: adjust(services),
      files: async (stack) => {
        await fillTree(hossDir, 'config');
        await fillTree(stack.volumePath('auth-secrets'), 'secrets');
        await fillTree(stack.volumePath('ldap-vol0'), 'ldap0');
        await fillTree(stack.volumePath('ldap-vol1'), 'ldap1');
        await fillTree(stack.volumePath('rabbitmq-data'), 'rabbit');
      },
    };
  });
}

/** Files, folders, a symlink, a hard link and odd modes and times: what a tree copy must carry exactly. */
export async function fillTree(dir: string, tag: string): Promise<void> {
  const at = (p: string) => join(dir, p);
  const then = new Date('2024-03-04T05:06:07Z');
  for (const folder of ['core', 'auth/keys', 'ui/assets', 'opensearch']) await mkdir(at(folder), { recursive: true });
  await writeFile(at('traefik.yaml'), `entryPoints: {} # ${tag}\n`);
  await writeFile(at('core/app.yaml'), `name: ${tag}\n${'setting: value\n'.repeat(300)}`);
  await writeFile(at('auth/keys/signing.pem'), `-----BEGIN KEY ${tag}-----\n`, { mode: 0o600 });
  await chmod(at('auth/keys'), 0o700);
  await writeFile(at('ui/assets/app.js'), Buffer.alloc(70_000, tag.length));
  await link(at('ui/assets/app.js'), at('ui/app-hardlink.js'));
  await symlink('assets/app.js', at('ui/current.js'));
  await writeFile(at('opensearch/opensearch.yml'), 'path.repo: ["/mnt/snapshots"]\n');
  await utimes(at('core/app.yaml'), then, then);
  await utimes(at('ui/assets'), then, then);
}

/** Two Postgres services in one profile, with the same database name in each. */
export async function twoPostgresStack(t: TestContext, options: { sharedBackupFolder?: boolean } = {}): Promise<FakeStack> {
  const profile = validateProfile({
    name: 'pair',
    configDirVariable: 'PAIR_DIR',
    defaultConfigDir: '~/pair',
    defaultProject: 'pair',
    versionVariable: 'PAIR_VERSION',
    archivePrefix: 'pair-backup',
    backupRootDefault: '${PAIR_DIR}/backup',
    helperImage: 'busybox',
    components: [
      { id: 'config', kind: 'folder', config: { root: '${PAIR_DIR}', entries: ['.env'], required: ['.env'] } },
      ...['main', 'audit'].map((id) => ({
        id,
        kind: 'postgres',
        config: {
          service: `${id}-db`,
          user: { env: 'PG_USER' },
          password: { env: 'PG_PASSWORD' },
          databases: ['app'],
          containerBackupDir: '/mnt/backup',
          hostBackupDir: options.sharedBackupFolder ? '${BACKUP_ROOT}/.db' : `\${BACKUP_ROOT}/.${id}-db`,
          dataDir: `\${DATA}/${id}`,
          initScriptsDir: `\${DATA}/${id}-init`,
        },
      })),
    ],
  });
  return buildStack(t, (root) => {
    const dir = join(root, 'stack');
    const env = { COMPOSE_PROJECT_NAME: 'pair', PG_USER: 'postgres', PG_PASSWORD: PASSWORD, DATA: join(root, 'data'), PAIR_VERSION: '1.0', HOSSADM_UP_COMMAND: 'true' };
    const rows: Record<string, Record<string, number>> = { main: { 'public.orders': 30, 'public.items': 4 }, audit: { 'public.orders': 5, 'log.entries': 77 } };
    return {
      profile,
      project: 'pair',
      env,
      services: [
        ...['main', 'audit'].map((id) => ({
          service: `${id}-db`,
          binds: { '/mnt/backup': join(dir, 'backup', options.sharedBackupFolder ? '.db' : `.${id}-db`), '/var/lib/postgresql/data': join(env.DATA, id), '/docker-entrypoint-initdb.d': join(env.DATA, `${id}-init`) },
          postgres: {
            user: 'postgres', password: PASSWORD, dataDir: join(env.DATA, id), initScriptsDir: join(env.DATA, `${id}-init`),
            restoreDir: join(dir, 'backup', options.sharedBackupFolder ? '.db' : `.${id}-db`, `hossadm-restore-${id}`),
            seed: (pg: FakePostgres) => pg.addDatabase('app', rows[id]!),
          },
        })),
        { service: 'web' },
      ],
    };
  });
}
