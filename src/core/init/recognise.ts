// From what a running Compose project shows (facts.ts) to a profile an
// operator reviews: each service's kind guessed from its image, overridden
// by its labels; named volumes into one `volumes` instance; writable
// bind-mounted folders into `folder` instances copied while writers stop.
// Pure, so every guess is unit-tested without an engine.
import { basename, dirname, isAbsolute, relative } from 'node:path';
import type { MountFacts, ProjectFacts, ServiceFacts } from './facts.ts';

/** Labels on a service that override what is guessed (in the spirit of offen/docker-volume-backup's). */
export const LABELS = {
  kind: 'hossadm.kind',
  skip: 'hossadm.skip',
  stop: 'hossadm.stop-during-backup',
  postgresBackupDir: 'hossadm.postgres.backup-dir',
} as const;

/** The variable naming the config folder in an init-made profile. */
export const CONFIG_DIR_VARIABLE = 'HOSSADM_CONFIG_DIR';

export interface InitOptions {
  /** The folder the profile and .env go into (absolute). */
  configDir: string;
  /** Kinds registered in this hossadm (redis may be missing). */
  kinds: readonly string[];
  /** The helper image to name (one that is on this host). */
  helperImage: string;
  /** BACKUP_ROOT, when the operator chose one; default ${HOSSADM_CONFIG_DIR}/backup. */
  backupRoot?: string;
  /** Postgres databases found per service (by asking the server), when it could be asked. */
  databases?: Record<string, string[]>;
  /** For the description. */
  now?: Date;
}

export interface InitPlan {
  profile: Record<string, unknown>;
  /** What the stack's .env must say: names and values (secrets among them). */
  env: Record<string, string>;
  /** Names in `env` whose values are secret: never printed. */
  secrets: string[];
  /** One line per decision an operator should read (what was recognised, left out, and why). */
  notes: string[];
}

type Kind = 'postgres' | 'search-opensearch' | 'search-elasticsearch' | 'cassandra' | 'redis' | 's3' | 'none';

const SYSTEM_PATHS = /^\/(proc|sys|dev|run|var\/run|etc|usr|lib|boot)(\/|$)/;

/** The image's repository name without registry, namespace or tag: "hoss-local/postgres:local" -> "postgres". */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1);
  return tail.split(':')[0]!.toLowerCase();
}

export function guessKind(service: ServiceFacts): Kind {
  const label = service.labels[LABELS.kind]?.trim().toLowerCase();
  if (label) {
    if (label === 'postgres' || label === 'redis' || label === 'cassandra' || label === 's3' || label === 'none') return label;
    if (label === 'opensearch' || label === 'search-snapshot') return 'search-opensearch';
    if (label === 'elasticsearch') return 'search-elasticsearch';
    return 'none';
  }
  const name = imageName(service.image);
  if (/^(postgres|postgis|timescaledb|timescaledb-ha|pgvector)/.test(name) || /postgres/.test(name)) return 'postgres';
  if (/opensearch(?!-dashboards)/.test(name)) return 'search-opensearch';
  if (/^elasticsearch/.test(name)) return 'search-elasticsearch';
  if (/cassandra/.test(name)) return 'cassandra';
  if (/^(redis|valkey|keydb)/.test(name) && !/insight|commander|exporter/.test(name)) return 'redis';
  if (/^(minio|seaweedfs|garage|localstack|s3proxy|zenko|cloudserver|ceph)/.test(name)) return 's3';
  return 'none';
}

const isTrue = (value: string | undefined) => value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
const isFalse = (value: string | undefined) => value !== undefined && /^(0|false|no|off)$/i.test(value.trim());

/** A component id from a service or volume name: lowercase letters, digits and "-", starting with a letter. */
export function idFrom(name: string, taken: Set<string>): string {
  let id = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 36);
  if (!id) id = 'part';
  let candidate = id;
  for (let n = 2; taken.has(candidate); n++) candidate = `${id}-${n}`;
  taken.add(candidate);
  return candidate;
}

/** An environment variable name for a service's value that does not clash with another service's. */
function envName(wanted: string, service: string, owner: Map<string, string>, value: string): string {
  const existing = owner.get(wanted);
  if (existing === undefined || existing === `${service}\0${value}`) {
    owner.set(wanted, `${service}\0${value}`);
    return wanted;
  }
  const prefixed = `${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_${wanted}`;
  owner.set(prefixed, `${service}\0${value}`);
  return prefixed;
}

function inside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export function recognise(facts: ProjectFacts, options: InitOptions): InitPlan {
  const notes: string[] = [];
  const env: Record<string, string> = {};
  const secrets: string[] = [];
  const owner = new Map<string, string>();
  const ids = new Set<string>(['config', 'compose', 'volumes']);
  const components: Record<string, unknown>[] = [];
  const keepRunning = new Set<string>();
  const volumePrefix = `${facts.project}_`;
  const volumes = new Set<string>();
  const folders = new Map<string, { services: Set<string> }>();
  const claimed = new Set<string>();
  const claim = (m: MountFacts) => claimed.add(`${m.type}:${m.source}`);

  const setEnv = (service: string, wanted: string, value: string, secret: boolean): string => {
    const name = envName(wanted, service, owner, value);
    env[name] = value;
    if (secret && !secrets.includes(name)) secrets.push(name);
    return name;
  };
  /** A value the container has in its environment becomes a { env } reference; a default stays a literal. */
  const ref = (s: ServiceFacts, variable: string, fallback: string | undefined, secret: boolean): unknown => {
    const value = s.env[variable];
    if (value === undefined || value === '') return fallback;
    return { env: setEnv(s.service, variable, value, secret) };
  };
  const bindAt = (s: ServiceFacts, destination: string) => s.mounts.find((m) => m.type === 'bind' && m.destination === destination);
  const mountAt = (s: ServiceFacts, destination: string) => s.mounts.find((m) => m.destination === destination);

  for (const s of facts.services) {
    if (isTrue(s.labels[LABELS.skip])) {
      notes.push(`${s.service}: skipped (label ${LABELS.skip}=true); nothing of it is backed up`);
      for (const m of s.mounts) claim(m);
      continue;
    }
    if (isFalse(s.labels[LABELS.stop])) {
      keepRunning.add(s.service);
      notes.push(`${s.service}: keeps running during backups (label ${LABELS.stop}=false); its volumes and folders are copied live`);
    }
    let kind = guessKind(s);
    if (kind === 'redis' && !options.kinds.includes('redis')) {
      notes.push(`${s.service}: Redis (${s.image}); this hossadm has no redis kind, so its data is copied as files while it is stopped`);
      kind = 'none';
    }
    if (kind === 'cassandra') {
      notes.push(
        `${s.service}: Cassandra (${s.image}); its data is copied as files while it is stopped (for snapshots, write a cassandra instance by hand: see docs/commands.md)`,
      );
      kind = 'none';
    }
    if (kind === 's3') {
      notes.push(`${s.service}: an S3 server (${s.image}); its storage is copied as files while it is stopped; buckets on a remote S3 are not backed up`);
      kind = 'none';
    }
    if (kind === 'postgres') {
      const pgdata = s.env.PGDATA || '/var/lib/postgresql/data';
      const data = mountAt(s, pgdata) ?? s.mounts.find((m) => m.destination.startsWith('/var/lib/postgresql'));
      const init = bindAt(s, '/docker-entrypoint-initdb.d');
      const labelled = s.labels[LABELS.postgresBackupDir];
      const backup = labelled
        ? bindAt(s, labelled)
        : s.mounts
            .filter((m) => m.type === 'bind' && !m.readOnly && m.isDir !== false && m !== data && m !== init)
            .sort((a, b) => Number(/backup|dump/i.test(b.destination)) - Number(/backup|dump/i.test(a.destination)))[0];
      if (!backup || !init) {
        const missing = [!backup && 'a writable bind-mounted folder for dumps', !init && 'a bind-mounted /docker-entrypoint-initdb.d']
          .filter(Boolean)
          .join(' and ');
        notes.push(`${s.service}: Postgres (${s.image}) without ${missing}; its data is copied as files while it is stopped (add them for pg_dump backups)`);
      } else {
        const id = idFrom(s.service, ids);
        const user = ref(s, 'POSTGRES_USER', 'postgres', false);
        const password = ref(s, 'POSTGRES_PASSWORD', undefined, true);
        const userName = s.env.POSTGRES_USER || 'postgres';
        const found = options.databases?.[s.service];
        const defaultDb = s.env.POSTGRES_DB || userName;
        const databases = (found && found.length > 0 ? found : [defaultDb]).map((d) =>
          d === s.env.POSTGRES_DB ? { env: setEnv(s.service, 'POSTGRES_DB', d, false) } : d,
        );
        if (password === undefined) notes.push(`${s.service}: POSTGRES_PASSWORD is not set in the container; set the password in the profile by hand`);
        const config: Record<string, unknown> = {
          service: s.service,
          user,
          password: password ?? { env: setEnv(s.service, 'POSTGRES_PASSWORD', '', true) },
          databases,
          containerBackupDir: backup.destination,
          hostBackupDir: backup.source,
          initScriptsDir: init.source,
        };
        if (data?.type === 'bind') config.dataDir = data.source;
        components.push({ id, kind: 'postgres', config });
        keepRunning.add(s.service);
        for (const m of [data, init, backup]) if (m) claim(m);
        notes.push(
          `${s.service}: Postgres (${s.image}) -> instance "${id}": pg_dump of ${found?.length ? found.join(', ') : defaultDb} through ${backup.source}`,
        );
        continue;
      }
    }
    if (kind === 'search-opensearch' || kind === 'search-elasticsearch') {
      const flavour = kind === 'search-opensearch' ? 'opensearch' : 'elasticsearch';
      const repoSetting = s.env['path.repo'] ?? s.env.path_repo;
      // path.repo set in the environment names the folder; else a writable bind-mounted folder named like one.
      const repo = repoSetting
        ? bindAt(s, repoSetting.split(',')[0]!.trim())
        : s.mounts.find((m) => m.type === 'bind' && !m.readOnly && m.isDir !== false && /snapshot|backup|repo/i.test(m.destination));
      const dataDir = flavour === 'opensearch' ? '/usr/share/opensearch/data' : '/usr/share/elasticsearch/data';
      if (!repo) {
        notes.push(
          `${s.service}: ${flavour} (${s.image}) without path.repo on a bind-mounted folder; its data is copied as files while it is stopped (set path.repo for snapshots)`,
        );
      } else {
        const id = idFrom(s.service, ids);
        const data = mountAt(s, dataDir);
        components.push({
          id,
          kind: 'search-snapshot',
          config: {
            flavour,
            service: s.service,
            port: 9200,
            repository: `${facts.project}-hossadm`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
            containerRepoDir: repo.destination,
            containerDataDir: dataDir,
            hostRepoDir: repo.source,
            ...(data?.type === 'bind' ? { dataDir: data.source } : {}),
          },
        });
        keepRunning.add(s.service);
        for (const m of [repo, data]) if (m) claim(m);
        notes.push(`${s.service}: ${flavour} (${s.image}) -> instance "${id}": snapshots through ${repo.source}`);
        continue;
      }
    }
    if (kind === 'redis') {
      const data = mountAt(s, '/data') ?? s.mounts.find((m) => m.type !== 'other' && !m.readOnly);
      const id = idFrom(s.service, ids);
      const passArg = s.command.indexOf('--requirepass');
      const config: Record<string, unknown> = { service: s.service, dataDir: data?.destination ?? '/data' };
      if (s.env.REDIS_PASSWORD) config.password = { env: setEnv(s.service, 'REDIS_PASSWORD', s.env.REDIS_PASSWORD, true) };
      else if (passArg >= 0 && s.command[passArg + 1]) config.password = { env: setEnv(s.service, 'REDIS_PASSWORD', s.command[passArg + 1]!, true) };
      components.push({ id, kind: 'redis', config });
      keepRunning.add(s.service);
      if (data) claim(data);
      notes.push(`${s.service}: Redis (${s.image}) -> instance "${id}": one RDB of every database`);
      continue;
    }
    // Anything else: its named volumes and writable folders are data.
    for (const m of s.mounts) {
      if (claimed.has(`${m.type}:${m.source}`)) continue;
      if (m.type === 'volume') {
        if (m.source.startsWith(volumePrefix)) volumes.add(m.source.slice(volumePrefix.length));
        else if (/^[0-9a-f]{64}$/.test(m.source))
          notes.push(`${s.service}: anonymous volume at ${m.destination} left out (give it a name in the compose file to back it up)`);
        else notes.push(`${s.service}: volume ${m.source} is not named after the project (external?); left out`);
      } else if (m.type === 'bind') {
        if (m.readOnly) notes.push(`${s.service}: read-only bind mount ${m.source} -> ${m.destination} taken as configuration; left out`);
        else if (m.isDir === false) notes.push(`${s.service}: bind-mounted file ${m.source} left out (configuration)`);
        else if (SYSTEM_PATHS.test(m.source)) notes.push(`${s.service}: host path ${m.source} left out (a system path)`);
        else {
          const entry = folders.get(m.source) ?? { services: new Set<string>() };
          entry.services.add(s.service);
          folders.set(m.source, entry);
        }
      }
    }
  }
  // Data claimed by a kind in one service is not copied again for another that mounts it too.
  for (const key of claimed) {
    if (key.startsWith('volume:') && key.slice(7).startsWith(volumePrefix)) volumes.delete(key.slice(7 + volumePrefix.length));
    if (key.startsWith('bind:')) folders.delete(key.slice(5));
  }
  // A folder inside another one is copied with it.
  const folderPaths = [...folders.keys()].sort();
  const outer = folderPaths.filter((p) => !folderPaths.some((q) => q !== p && inside(p, q)));
  const backupRoot = options.backupRoot;
  for (const path of outer) {
    if (inside(options.configDir, path)) notes.push(`folder ${path} holds the config folder ${options.configDir}; move one of them apart`);
    if (backupRoot && inside(backupRoot, path))
      notes.push(`folder ${path} holds BACKUP_ROOT ${backupRoot}: backups would be copied into backups; choose another --backup-root`);
    const id = idFrom(basename(path) || 'folder', ids);
    components.push({ id, kind: 'folder', config: { root: path, frozen: true } });
    notes.push(`folder ${path} (${[...folders.get(path)!.services].join(', ')}) -> instance "${id}", copied while writers are stopped`);
  }
  if (volumes.size > 0) {
    components.push({ id: 'volumes', kind: 'volumes', config: { volumes: [...volumes].sort() } });
    notes.push(`named volumes ${[...volumes].sort().join(', ')} -> instance "volumes", copied while writers are stopped`);
  }

  // The compose files and this folder's own files come along, so a fresh host has everything to start the stack.
  const configEntries = ['.env', 'hossadm-profile.json'];
  const composeDir = facts.configFiles.length > 0 ? dirname(facts.configFiles[0]!) : undefined;
  const composeEntries = composeDir ? facts.configFiles.filter((f) => dirname(f) === composeDir).map((f) => basename(f)) : [];
  const head: Record<string, unknown>[] = [];
  if (composeDir && composeDir === options.configDir) {
    head.push({
      id: 'config',
      kind: 'folder',
      config: { root: `\${${CONFIG_DIR_VARIABLE}}`, entries: [...new Set([...configEntries, ...composeEntries])], required: ['.env'] },
    });
  } else {
    head.push({ id: 'config', kind: 'folder', config: { root: `\${${CONFIG_DIR_VARIABLE}}`, entries: configEntries, required: ['.env'] } });
    if (composeDir) head.push({ id: 'compose', kind: 'folder', config: { root: composeDir, entries: composeEntries } });
  }
  if (facts.configFiles.some((f) => dirname(f) !== composeDir))
    notes.push(`compose files outside ${composeDir} are not copied: ${facts.configFiles.filter((f) => dirname(f) !== composeDir).join(', ')}`);
  if (facts.configFiles.length === 0)
    notes.push('the compose files are unknown (no compose labels): a restore on a fresh host needs COMPOSE_FILE or HOSSADM_UP_COMMAND in .env');
  for (const service of facts.notRunning) notes.push(`${service}: defined in the compose files but not running; not looked at`);
  if (facts.composeProblem) notes.push(`compose config not read (${facts.composeProblem}); the running containers were read instead`);

  env.COMPOSE_PROJECT_NAME = facts.project;
  if (facts.configFiles.length > 0) env.COMPOSE_FILE = facts.configFiles.join(':');
  if (backupRoot) env.BACKUP_ROOT = backupRoot;
  // The services a backup keeps running: the data services the kinds name, and those labelled so.
  if (keepRunning.size > 0) env.HOSSADM_DATA_SERVICES = [...keepRunning].sort().join(',');
  const name =
    facts.project
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'stack';
  const profile = {
    name,
    description: `Compose project ${facts.project}, profile written by hossadm init on ${(options.now ?? new Date()).toISOString().slice(0, 10)}: review it`,
    configDirVariable: CONFIG_DIR_VARIABLE,
    defaultConfigDir: options.configDir,
    defaultProject: facts.project,
    versionVariable: 'HOSSADM_STACK_VERSION',
    marker: '.env',
    archivePrefix: `${name}-backup`,
    backupRootDefault: `\${${CONFIG_DIR_VARIABLE}}/backup`,
    helperImage: options.helperImage,
    components: [...head, ...components],
  };
  return { profile, env, secrets, notes };
}
