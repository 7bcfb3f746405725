// From what a running Compose project shows (facts.ts) to a profile an
// operator reviews: each service offered to the registered kinds'
// recognisers (by image name, or by the hossadm.kind label), the one that
// answers turning it into an instance; named volumes into one `volumes`
// instance; writable bind-mounted folders into `folder` instances copied
// while writers stop. Which servers there are is the kinds' knowledge, not
// this file's. Pure, so every guess is unit-tested without an engine.
import { basename, dirname, isAbsolute, relative } from 'node:path';
import type { RecogniseContext } from '../../components/recogniser.ts';
import { type KindRecogniser, registeredRecognisers } from '../../components/registry.ts';
import type { MountFacts, ProjectFacts, ServiceFacts } from './facts.ts';

/** Labels on a service that override what is guessed (in the spirit of offen/docker-volume-backup's). */
export const LABELS = {
  kind: 'hossadm.kind',
  skip: 'hossadm.skip',
  stop: 'hossadm.stop-during-backup',
} as const;

/** The variable naming the config folder in an init-made profile. */
export const CONFIG_DIR_VARIABLE = 'HOSSADM_CONFIG_DIR';

export interface InitOptions {
  /** The folder the profile and .env go into (absolute). */
  configDir: string;
  /** Kinds this hossadm has: a recogniser of another kind writes no instance. */
  kinds: readonly string[];
  /** The recognisers to offer services to; default: every registered kind's. */
  recognisers?: readonly KindRecogniser[];
  /** The helper image to name (one that is on this host). */
  helperImage: string;
  /** BACKUP_ROOT, when the operator chose one; default ${HOSSADM_CONFIG_DIR}/backup. */
  backupRoot?: string;
  /** For the description. */
  now?: Date;
  /** What recognisers learned by asking the running servers: by their `ask`'s question, then by service. */
  answers?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
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

const SYSTEM_PATHS = /^\/(proc|sys|dev|run|var\/run|etc|usr|lib|boot)(\/|$)/;

/** The image's repository name without registry, namespace or tag: "registry.example:5000/acme/web:2.1" -> "web". */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0]!;
  const lastSlash = noDigest.lastIndexOf('/');
  const tail = noDigest.slice(lastSlash + 1);
  return tail.split(':')[0]!.toLowerCase();
}

/** The recogniser a service's hossadm.kind label names, else the first whose image names match; undefined for none. */
export function recogniserFor(service: ServiceFacts, recognisers: readonly KindRecogniser[] = registeredRecognisers()): KindRecogniser | undefined {
  const label = service.labels[LABELS.kind]?.trim().toLowerCase();
  if (label) return recognisers.find((r) => r.recogniser.labels.includes(label));
  const name = imageName(service.image);
  return recognisers.find(({ recogniser: r }) => r.images.some((p) => p.test(name)) && !r.notImages?.some((p) => p.test(name)));
}

/** What init takes a service for: its recogniser's name, or "none" (its data is copied as files). */
export function guessKind(service: ServiceFacts, recognisers?: readonly KindRecogniser[]): string {
  return recogniserFor(service, recognisers)?.recogniser.name ?? 'none';
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
  const recognisers = options.recognisers ?? registeredRecognisers();
  const contextFor = (s: ServiceFacts, { recogniser }: KindRecogniser): RecogniseContext => ({
    project: facts.project,
    answer: recogniser.ask ? options.answers?.[recogniser.ask.question]?.[s.service] : undefined,
    setEnv: (wanted, value, secret) => setEnv(s.service, wanted, value, secret),
    // A value the container has in its environment becomes a { env } reference; a default stays a literal.
    ref: (variable, fallback, secret) => {
      const value = s.env[variable];
      if (value === undefined || value === '') return fallback;
      return { env: setEnv(s.service, variable, value, secret) };
    },
    note: (line) => notes.push(`${s.service}: ${line}`),
  });

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
    const found = recogniserFor(s, recognisers);
    if (found) {
      const { kind, recogniser } = found;
      const what = `${s.service}: ${recogniser.title} (${s.image})`;
      if (!recogniser.plan) notes.push(`${what}; ${recogniser.asFiles ?? 'its data is copied as files while it is stopped'}`);
      else if (!options.kinds.includes(kind)) notes.push(`${what}; this hossadm has no ${kind} kind, so its data is copied as files while it is stopped`);
      else {
        const instance = recogniser.plan(s, contextFor(s, found));
        if (instance) {
          const id = idFrom(s.service, ids);
          components.push({ id, kind, config: instance.config });
          keepRunning.add(s.service);
          for (const m of instance.claims) if (m) claim(m);
          notes.push(`${what} -> instance "${id}": ${instance.saves}`);
          continue;
        }
      }
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
