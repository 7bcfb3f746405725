// Where the Wire stack lives and what it is called: WIRE_DIR (or --dir),
// its .env, the compose project and files, the folders it binds. The first
// `up` writes .env (fresh S3 keys) and the installation folder.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EnvMap } from '../../../src/config/env-file.ts';
import type { ComposeProject } from '../../../src/docker/compose-cli.ts';
import { ConfigError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../context.ts';
import { checkStackDir, composeFilesFrom, readStackEnv, stackComposeProject, stackFolderContext, type StackFolderContext } from '../stack-folder.ts';

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
export function checkWireDir(dir: string): Promise<boolean> {
  return checkStackDir(dir, 'WIRE_DIR', 'point WIRE_DIR or --dir at a folder, or remove that file');
}

export interface WireContext extends StackFolderContext {
  bucket: string;
  installation: string;
}

export function wireContextFrom(dir: string, envPath: string, env: EnvMap, composeFiles: string[]): WireContext {
  return { ...stackFolderContext(dir, envPath, env, composeFiles), bucket: env.S3_BUCKET!, installation: join(dir, 'wire-server') };
}

export async function loadWireContext(dir = wireDirFromEnv()): Promise<WireContext> {
  const { envPath, env } = await readStackEnv(dir, {
    variable: 'WIRE_DIR',
    hint: 'run compose/stack --stack wire up first, or set WIRE_DIR / --dir',
    checkDir: checkWireDir,
    required: REQUIRED,
    noConfigOf: 'Wire stack',
  });
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(env.S3_BUCKET!)) throw new ConfigError(`S3_BUCKET "${env.S3_BUCKET}" in ${envPath} is not a bucket name`);
  return wireContextFrom(dir, envPath, env, composeFilesFrom(env, WIRE_COMPOSE_FILES));
}

/** .env's values over the caller's environment; WIRE_DIR is where the stack is now. */
export function wireComposeProject(ctx: WireContext): ComposeProject {
  return stackComposeProject(ctx, 'WIRE_DIR', ctx.dir);
}
