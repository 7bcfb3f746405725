// Where the Wire stack lives and what it is called: WIRE_DIR (or --dir),
// its .env, the compose project and files, the folders it binds. The first
// `up` writes .env (fresh S3 keys) and the installation folder.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { readEnvFile, type EnvMap } from '../../../src/config/env-file.ts';
import type { ComposeProject } from '../../../src/docker/compose-cli.ts';
import { ConfigError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../context.ts';
import { say } from '../runtime.ts';

export const WIRE_COMPOSE_DIR = join(REPO_ROOT, 'compose', 'wire');
export const WIRE_COMPOSE_FILES = [join(WIRE_COMPOSE_DIR, 'docker-compose.yaml'), join(WIRE_COMPOSE_DIR, 'docker-compose.local.yaml')];

export const CASSANDRA_NODES = ['cassandra1', 'cassandra2'] as const;
export const WIRE_SERVICES = [...CASSANDRA_NODES, 'objectstore', 'brig'] as const;
export type WireService = (typeof WIRE_SERVICES)[number];
/** Wire's keyspaces, each with replication factor 2 (= the node count). */
export const KEYSPACES = ['brig', 'galley', 'gundeck', 'spar'] as const;

const REQUIRED = ['COMPOSE_PROJECT_NAME', 'BACKUP_ROOT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION', 'S3_BUCKET'] as const;

export function wireDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.WIRE_DIR?.trim();
  return resolve(raw ? raw : join(homedir(), 'wire'));
}

/** The folder may be missing (up creates it) but never something other than a folder. */
export async function checkWireDir(dir: string): Promise<boolean> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new ConfigError(`WIRE_DIR ${dir} is not a folder`, { hint: 'point WIRE_DIR or --dir at a folder, or remove that file' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot use WIRE_DIR ${dir}: ${(error as Error).message}`, { cause: error });
  }
}

export interface WireContext {
  dir: string;
  envPath: string;
  env: EnvMap;
  project: string;
  composeFiles: string[];
  backupRoot: string;
  bucket: string;
  installation: string;
}

export function wireContextFrom(dir: string, envPath: string, env: EnvMap, composeFiles: string[]): WireContext {
  return {
    dir, envPath, env, project: env.COMPOSE_PROJECT_NAME!, composeFiles,
    backupRoot: resolve(env.BACKUP_ROOT!), bucket: env.S3_BUCKET!, installation: join(dir, 'wire-server'),
  };
}

export async function loadWireContext(dir = wireDirFromEnv()): Promise<WireContext> {
  const envPath = join(dir, '.env');
  if (!(await checkWireDir(dir)) || !existsSync(envPath)) {
    throw new ConfigError(`no Wire stack configuration at ${envPath}`, { hint: 'run compose/stack --stack wire up first, or set WIRE_DIR / --dir' });
  }
  const env = await readEnvFile(envPath);
  const missing = REQUIRED.filter((key) => !env[key]);
  if (missing.length > 0) throw new ConfigError(`${envPath} lacks ${missing.join(', ')}`);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(env.S3_BUCKET!)) throw new ConfigError(`S3_BUCKET "${env.S3_BUCKET}" in ${envPath} is not a bucket name`);
  const listed = (env.COMPOSE_FILE ?? '').split(':').filter(Boolean);
  let files = WIRE_COMPOSE_FILES;
  if (listed.length > 0 && listed.every((f) => existsSync(f))) files = listed;
  else if (listed.length > 0) say(`COMPOSE_FILE in .env names missing files; using ${WIRE_COMPOSE_FILES.join(':')}`);
  return wireContextFrom(dir, envPath, env, files);
}

/** .env's values over the caller's environment; WIRE_DIR is where the stack is now. */
export function wireComposeProject(ctx: WireContext): ComposeProject {
  return { project: ctx.project, files: ctx.composeFiles, envFile: ctx.envPath, env: { ...process.env, ...ctx.env, WIRE_DIR: ctx.dir } };
}
