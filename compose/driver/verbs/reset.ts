// reset: the disaster a restore must recover from. The project's containers,
// network and named volumes go, and so do the bind-mounted data folders and
// the whole config folder (.env included); only BACKUP_ROOT/backups stays.
// Files there belong to the services' uids (70, 911, 1000, ...), so they are
// removed from inside a helper container running as root.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, rmdir, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { runCompose, type ComposeProject } from '../../../src/docker/compose-cli.ts';
import { projectContainers } from '../../../src/docker/compose-services.ts';
import { HELPER_LABEL } from '../../../src/docker/types.ts';
import { ConfigError } from '../../../src/errors.ts';
import { COMPOSE_FILES, checkHossDir, composeProject, ldapBaseDn, loadContext, VOLUMES, type StackContext } from '../context.ts';
import { renderEnv } from '../env-template.ts';
import { parseEnv, type EnvMap } from '../../../src/config/env-file.ts';
import { docker, runHelperScript, say } from '../runtime.ts';

/** What a config folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'traefik.yaml', 'core', 'auth', 'sync', 'opensearch', 'ui', 'data', 'backup']);

/**
 * When .env is gone, Compose still needs every variable to parse the file
 * for `down`; placeholder values are enough since nothing is started. The
 * rendered .env goes to `scratch`; COMPOSE_PROJECT_NAME, else
 * `defaultProject`, names the project.
 */
export async function placeholderContext<C>(
  scratch: string,
  defaultProject: string,
  render: (project: string) => string,
  contextOf: (envPath: string, env: EnvMap, project: string) => C,
): Promise<C> {
  const project = process.env.COMPOSE_PROJECT_NAME?.trim() || defaultProject;
  const text = render(project);
  const envPath = join(scratch, 'placeholder.env');
  await writeFile(envPath, text);
  return contextOf(envPath, parseEnv(text), project);
}

function hossPlaceholder(hossDir: string, scratch: string): Promise<StackContext> {
  return placeholderContext(
    scratch,
    'server',
    (project) => renderEnv({ hossDir, project, composeFiles: COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' }),
    (envPath, env, project) => ({ hossDir, envPath, env, project, composeFiles: COMPOSE_FILES, backupRoot: resolve(env.BACKUP_ROOT!), ldapBase: ldapBaseDn(env.LDAP_DOMAIN!), services: [] }),
  );
}

export function inside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !rel.startsWith(sep) && rel !== '..');
}

async function removeEntries(folder: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await runHelperScript({
    script: 'cd /target && rm -rf -- "$@"',
    args: names,
    mounts: [{ source: folder, target: '/target' }],
    purpose: `reset ${folder}`,
  });
}

/** Empties `folder` except the path `keep` below it (and the folders leading to it). */
export async function emptyFolderExcept(folder: string, keep: string | undefined): Promise<void> {
  if (!existsSync(folder)) return;
  const entries = await readdir(folder);
  const keepFirst = keep ? relative(folder, keep).split(sep)[0] : undefined;
  await removeEntries(folder, entries.filter((name) => name !== keepFirst));
  if (keep && keepFirst && join(folder, keepFirst) !== keep) await emptyFolderExcept(join(folder, keepFirst), keep);
}

export async function removeFolder(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const parent = dirname(path);
  if (parent === path || parent === '/') throw new ConfigError(`refusing to remove ${path}: it sits directly under /`);
  await removeEntries(parent, [basename(path)]);
}

/** What tells one stack's reset from another's; the safety rules are resetStackFolder's. */
export interface StackReset<C> {
  /** The variable that names the folder (HOSS_DIR), and how to set it, for the refusal of / and ~. */
  variable: string;
  hint: string;
  /** False when the folder does not exist; throws when it is not a folder. */
  checkDir: (dir: string) => Promise<boolean>;
  /** What a stack folder holds; without .env, anything else there means it is not one. */
  knownEntries: ReadonlySet<string>;
  /** mkdtemp prefix of the scratch folder the placeholder .env goes to. */
  scratchPrefix: string;
  load: (dir: string) => Promise<C>;
  /** A context from placeholder values, for when .env is gone. */
  placeholder: (dir: string, scratch: string) => Promise<C>;
  removeEverything: (ctx: C) => Promise<void>;
}

/**
 * Refuses / and the home folder, and a folder without .env holding what a
 * stack folder would not; then removes everything of the stack, from its
 * .env or, without one, from placeholder values.
 */
export async function resetStackFolder<C>(dir: string, stack: StackReset<C>): Promise<void> {
  if (dir === '/' || dir === resolve(homedir())) {
    throw new ConfigError(`refusing to reset ${stack.variable} ${dir}: it is not a stack's own folder`, { hint: stack.hint });
  }
  const exists = await stack.checkDir(dir);
  const hasEnv = exists && existsSync(join(dir, '.env'));
  if (exists && !hasEnv) {
    const strangers = (await readdir(dir)).filter((name) => !stack.knownEntries.has(name));
    if (strangers.length > 0) {
      throw new ConfigError(`refusing to reset ${dir}: no .env, and it holds ${strangers.slice(0, 3).join(', ')} which a stack folder would not`);
    }
  }
  await docker.ping();
  const scratch = await mkdtemp(join(tmpdir(), stack.scratchPrefix));
  try {
    const ctx = hasEnv ? await stack.load(dir) : await stack.placeholder(dir, scratch);
    await stack.removeEverything(ctx);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  say('reset done');
}

/**
 * Everything of a stack whose data lives in bind-mounted folders only: the
 * helpers left by an interrupted run that mount its folders (others' may be
 * running), its containers and network, then everything in the folder and
 * in BACKUP_ROOT except BACKUP_ROOT/backups; the folder itself when empty.
 */
export async function removeBindStack(ctx: { dir: string; backupRoot: string; project: string }, compose: ComposeProject): Promise<void> {
  say(`removing containers and network of project ${ctx.project}`);
  const roots = [ctx.dir, ctx.backupRoot];
  for (const helper of await docker.listContainers({ labels: { [HELPER_LABEL]: true } })) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    if ((info?.Mounts ?? []).some((m) => m.Type === 'bind' && roots.some((root) => inside(root, m.Source)))) {
      await docker.removeContainer(helper.id).catch(() => undefined);
    }
  }
  await runCompose(compose, ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  // Leftovers Compose no longer knows about (a service renamed, a file edited).
  for (const container of await projectContainers(docker, ctx.project)) await docker.removeContainer(container.id);
  const keep = join(ctx.backupRoot, 'backups');
  say(`removing data and config under ${ctx.dir}; keeping ${keep}`);
  if (!inside(ctx.dir, ctx.backupRoot)) await emptyFolderExcept(ctx.backupRoot, keep);
  await emptyFolderExcept(ctx.dir, inside(ctx.dir, keep) ? keep : undefined);
  if (existsSync(ctx.dir) && (await readdir(ctx.dir)).length === 0) await rmdir(ctx.dir);
}

export async function reset(hossDir: string): Promise<void> {
  await resetStackFolder(hossDir, {
    variable: 'HOSS_DIR',
    hint: 'set HOSS_DIR to the stack folder (e.g. ~/.hoss)',
    checkDir: checkHossDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'hoss-reset-',
    load: loadContext,
    placeholder: hossPlaceholder,
    removeEverything,
  });
}

/**
 * A helper left by an interrupted run still holds its volume, and a volume
 * in use cannot be removed. Only helpers that mount this stack's volumes or
 * folders go: other stacks on the same engine may be running theirs.
 */
async function removeHelpersOf(ctx: StackContext): Promise<void> {
  const roots = [ctx.hossDir, ctx.backupRoot, resolve(ctx.env.DB_ROOT!), resolve(ctx.env.DB_INIT_SCRIPTS!)];
  const volumes = new Set(VOLUMES.map((v) => `${ctx.project}_${v}`));
  for (const helper of await docker.listContainers({ labels: { [HELPER_LABEL]: true } })) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    const ours = (info?.Mounts ?? []).some((m) =>
      m.Type === 'volume' ? volumes.has(m.Name ?? '') : roots.some((root) => inside(root, m.Source)),
    );
    if (ours) await docker.removeContainer(helper.id).catch(() => undefined);
  }
}

async function removeEverything(ctx: StackContext): Promise<void> {
  const hossDir = ctx.hossDir;

  say(`removing containers, network and volumes of project ${ctx.project}`);
  await removeHelpersOf(ctx);
  await runCompose(composeProject(ctx), ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  // Leftovers Compose no longer knows about (a service renamed, a file edited).
  for (const container of await projectContainers(docker, ctx.project)) await docker.removeContainer(container.id);
  for (const volume of VOLUMES) {
    const name = `${ctx.project}_${volume}`;
    if (await docker.inspectVolume(name)) await docker.removeVolume(name);
  }

  const keep = join(ctx.backupRoot, 'backups');
  say(`removing data and config under ${hossDir}; keeping ${keep}`);
  for (const key of ['DB_ROOT', 'DB_INIT_SCRIPTS'] as const) {
    const path = resolve(ctx.env[key]!);
    if (!inside(hossDir, path) && !inside(keep, path)) await removeFolder(path);
  }
  if (!inside(hossDir, ctx.backupRoot)) await emptyFolderExcept(ctx.backupRoot, keep);
  await emptyFolderExcept(hossDir, inside(hossDir, keep) ? keep : undefined);
  if (existsSync(hossDir) && (await readdir(hossDir)).length === 0) await rmdir(hossDir);
}
