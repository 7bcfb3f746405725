// Where the CyberSift stack lives and what it is called: CYBERSIFT_DIR (or
// --dir), its .env, the compose project and files, the folders it binds.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EnvMap } from '../../../src/config/env-file.ts';
import type { ComposeProject } from '../../../src/docker/compose-cli.ts';
import { REPO_ROOT } from '../context.ts';
import { checkStackDir, composeFilesFrom, readStackEnv, stackComposeProject, stackFolderContext, type StackFolderContext } from '../stack-folder.ts';

export const CYBERSIFT_COMPOSE_DIR = join(REPO_ROOT, 'compose', 'cybersift');
export const CYBERSIFT_COMPOSE_FILES = [join(CYBERSIFT_COMPOSE_DIR, 'docker-compose.yaml'), join(CYBERSIFT_COMPOSE_DIR, 'docker-compose.local.yaml')];

/** Services in the order `up` reports them. */
export const CYBERSIFT_SERVICES = ['elasticsearch', 'redis', 'cybersift'] as const;
export type CyberSiftService = (typeof CYBERSIFT_SERVICES)[number];

/** uid:gid of the engines and of the stand-in: they must own their folders. */
export const ELASTICSEARCH_OWNER = '1000:1000';
export const REDIS_OWNER = '999:999';
export const CYBERSIFT_OWNER = '1000:1000';

/** The index the stand-in writes events into. */
export const EVENTS_INDEX = 'cybersift-events';

const REQUIRED = ['COMPOSE_PROJECT_NAME', 'BACKUP_ROOT', 'REDIS_PASSWORD'] as const;

export function cyberSiftDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.CYBERSIFT_DIR?.trim();
  return resolve(raw ? raw : join(homedir(), 'cybersift'));
}

/** The folder may be missing (up creates it) but never something other than a folder. */
export function checkCyberSiftDir(dir: string): Promise<boolean> {
  return checkStackDir(dir, 'CYBERSIFT_DIR', 'point CYBERSIFT_DIR or --dir at a folder, or remove that file');
}

export interface CyberSiftContext extends StackFolderContext {
  /** Bind sources, as the compose file names them. */
  elasticsearchData: string;
  redisData: string;
  models: string;
  flows: string;
  snapshots: string;
}

export function cyberSiftContextFrom(dir: string, envPath: string, env: EnvMap, composeFiles: string[]): CyberSiftContext {
  const base = stackFolderContext(dir, envPath, env, composeFiles);
  return {
    ...base,
    elasticsearchData: join(dir, 'elasticsearch', 'data'),
    redisData: join(dir, 'redis', 'data'),
    models: join(dir, 'models'),
    flows: join(dir, 'nifi', 'flows'),
    snapshots: join(base.backupRoot, '.elasticsearch'),
  };
}

export async function loadCyberSiftContext(dir = cyberSiftDirFromEnv()): Promise<CyberSiftContext> {
  const { envPath, env } = await readStackEnv(dir, {
    variable: 'CYBERSIFT_DIR',
    hint: 'run compose/stack --stack cybersift up first, or set CYBERSIFT_DIR / --dir',
    checkDir: checkCyberSiftDir,
    required: REQUIRED,
  });
  return cyberSiftContextFrom(dir, envPath, env, composeFilesFrom(env, CYBERSIFT_COMPOSE_FILES));
}

/** .env's values over the caller's environment; CYBERSIFT_DIR is where the stack is now. */
export function cyberSiftComposeProject(ctx: CyberSiftContext): ComposeProject {
  return stackComposeProject(ctx, 'CYBERSIFT_DIR', ctx.dir);
}
