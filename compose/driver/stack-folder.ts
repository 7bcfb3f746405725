// What every reference stack does with its folder the same way: the folder
// check, reading and checking its .env, the compose files .env names (or
// this checkout's), the common part of its context, the Compose project
// its verbs run and its bind sources made and owned before `up`. Each stack
// keeps its own names, paths and texts.
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readEnvFile, type EnvMap } from '../../src/config/env-file.ts';
import type { ComposeProject } from '../../src/docker/compose-cli.ts';
import { ConfigError } from '../../src/errors.ts';
import { runHelperScript, say } from './runtime.ts';

/**
 * A stack folder may be missing (up creates it) but never something other
 * than a folder; true when it exists. `name` is the variable that sets it
 * (HOSS_DIR), `hint` says how to point it elsewhere.
 */
export async function checkStackDir(dir: string, name: string, hint: string): Promise<boolean> {
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      throw new ConfigError(`${name} ${dir} is not a folder`, { hint });
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot use ${name} ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

/** The compose files .env names, unless they are gone (a moved checkout): then this checkout's `defaults`. */
export function composeFilesFrom(env: EnvMap, defaults: string[]): string[] {
  const listed = (env.COMPOSE_FILE ?? '').split(':').filter(Boolean);
  if (listed.length > 0 && listed.every((f) => existsSync(f))) return listed;
  if (listed.length > 0) say(`COMPOSE_FILE in .env names missing files; using ${defaults.join(':')}`);
  return defaults;
}

/** How one stack names and checks its folder's .env. */
export interface StackEnvSpec {
  /** The variable naming the folder (THEHIVE_DIR), for the "does not exist" refusal. */
  variable: string;
  /** How to get a .env there ("run compose/stack --stack thehive up first, ..."). */
  hint: string;
  /** False when the folder does not exist; throws when it is not a folder. */
  checkDir: (dir: string) => Promise<boolean>;
  /** Variables .env must set to a non-empty value. */
  required: readonly string[];
  /** When set, a missing folder and a missing .env both say "no <noConfigOf> configuration at <.env>". */
  noConfigOf?: string;
}

/** <dir>/.env read and checked for the required variables; ConfigErrors name what is missing. */
export async function readStackEnv(dir: string, spec: StackEnvSpec): Promise<{ envPath: string; env: EnvMap }> {
  const envPath = join(dir, '.env');
  const exists = await spec.checkDir(dir);
  if (spec.noConfigOf !== undefined && (!exists || !existsSync(envPath))) {
    throw new ConfigError(`no ${spec.noConfigOf} configuration at ${envPath}`, { hint: spec.hint });
  }
  if (!exists) throw new ConfigError(`${spec.variable} ${dir} does not exist`, { hint: spec.hint });
  if (!existsSync(envPath)) throw new ConfigError(`no stack configuration at ${envPath}`, { hint: spec.hint });
  const env = await readEnvFile(envPath);
  const missing = spec.required.filter((key) => !env[key]);
  if (missing.length > 0) throw new ConfigError(`${envPath} lacks ${missing.join(', ')}`);
  return { envPath, env };
}

/** What every stack folder's context holds; each stack adds its own paths and names. */
export interface StackFolderContext {
  dir: string;
  envPath: string;
  env: EnvMap;
  project: string;
  composeFiles: string[];
  backupRoot: string;
}

export function stackFolderContext(dir: string, envPath: string, env: EnvMap, composeFiles: string[]): StackFolderContext {
  return { dir, envPath, env, project: env.COMPOSE_PROJECT_NAME!, composeFiles, backupRoot: resolve(env.BACKUP_ROOT!) };
}

/**
 * Compose substitutes ${VARS} from the process environment before the env
 * file, so the child gets .env's values on top of ours: a stray password in
 * the caller's shell must not reach the stack. `dirKey` (THEHIVE_DIR) is
 * where the stack is now, whatever .env remembers.
 */
export function stackComposeProject(ctx: { project: string; composeFiles: string[]; envPath: string; env: EnvMap }, dirKey: string, dir: string): ComposeProject {
  return {
    project: ctx.project,
    files: ctx.composeFiles,
    envFile: ctx.envPath,
    env: { ...process.env, ...ctx.env, [dirKey]: dir },
  };
}

/** Folders handed to one uid:gid, each by the name it is mounted as in the helper (/<name>). */
export interface OwnedFolders {
  owner: string;
  folders: Record<string, string>;
}

/**
 * Bind sources, made before compose starts anything (a missing one would be
 * created by the engine as a root-owned folder) and handed to their
 * services' uids from inside a helper: the host user may not own those
 * uids. `alsoMake` are folders made but left to the host user.
 */
export async function makeOwnedFolders(purpose: string, owned: readonly OwnedFolders[], alsoMake: readonly string[] = []): Promise<void> {
  const mounts = owned.flatMap(({ folders }) => Object.entries(folders).map(([name, source]) => ({ source, target: `/${name}` })));
  for (const dir of [...mounts.map((m) => m.source), ...alsoMake]) await mkdir(dir, { recursive: true });
  await runHelperScript({
    script: owned.map(({ folders }, i) => `chown "$${i + 1}" ${Object.keys(folders).map((name) => `/${name}`).join(' ')}`).join(' && '),
    args: owned.map(({ owner }) => owner),
    mounts,
    purpose,
  });
}
