// Where the TheHive stack lives and what it is called: THEHIVE_DIR (or
// --dir), its .env, the compose project and files, the folders it binds.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { EnvMap } from '../../../src/config/env-file.ts';
import type { ComposeProject } from '../../../src/docker/compose-cli.ts';
import { ConfigError } from '../../../src/errors.ts';
import { REPO_ROOT } from '../context.ts';
import { checkStackDir, composeFilesFrom, readStackEnv, stackComposeProject, stackFolderContext, type StackFolderContext } from '../stack-folder.ts';

export const THEHIVE_COMPOSE_DIR = join(REPO_ROOT, 'compose', 'thehive');
export const THEHIVE_COMPOSE_FILES = [join(THEHIVE_COMPOSE_DIR, 'docker-compose.yaml'), join(THEHIVE_COMPOSE_DIR, 'docker-compose.local.yaml')];
export const STANDIN_DIR = join(THEHIVE_COMPOSE_DIR, 'standins', 'thehive');

/** Services in the order `up` reports them. */
export const THEHIVE_SERVICES = ['cassandra', 'elasticsearch', 'thehive'] as const;
export type TheHiveService = (typeof THEHIVE_SERVICES)[number];

/** uid:gid of the engines and of TheHive: they must own their folders. */
export const CASSANDRA_OWNER = '999:999';
export const ELASTICSEARCH_OWNER = '1000:1000';
export const THEHIVE_OWNER = '1000:1000';

const REQUIRED = ['COMPOSE_PROJECT_NAME', 'BACKUP_ROOT', 'CASSANDRA_USER', 'CASSANDRA_PASSWORD', 'CASSANDRA_KEYSPACE', 'ELASTICSEARCH_INDEX'] as const;

export function theHiveDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.THEHIVE_DIR?.trim();
  return resolve(raw ? raw : join(homedir(), 'thehive'));
}

/** The folder may be missing (up creates it) but never something other than a folder. */
export async function checkTheHiveDir(dir: string): Promise<boolean> {
  return checkStackDir(dir, 'THEHIVE_DIR', 'point THEHIVE_DIR or --dir at a folder, or remove that file');
}

export interface TheHiveContext extends StackFolderContext {
  keyspace: string;
  index: string;
  /** Bind sources, as the compose file names them. */
  cassandraData: string;
  elasticsearchData: string;
  files: string;
  config: string;
  snapshots: string;
}

export function contextFrom(dir: string, envPath: string, env: EnvMap, composeFiles: string[]): TheHiveContext {
  const base = stackFolderContext(dir, envPath, env, composeFiles);
  return {
    ...base,
    keyspace: env.CASSANDRA_KEYSPACE!,
    index: env.ELASTICSEARCH_INDEX!,
    cassandraData: join(dir, 'cassandra', 'data'),
    elasticsearchData: join(dir, 'elasticsearch', 'data'),
    files: join(dir, 'thehive', 'data', 'files'),
    config: join(dir, 'thehive', 'config'),
    snapshots: join(base.backupRoot, '.elasticsearch'),
  };
}

export async function loadTheHiveContext(dir = theHiveDirFromEnv()): Promise<TheHiveContext> {
  const { envPath, env } = await readStackEnv(dir, {
    variable: 'THEHIVE_DIR',
    hint: 'run compose/stack --stack thehive up first, or set THEHIVE_DIR / --dir',
    checkDir: checkTheHiveDir,
    required: REQUIRED,
  });
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(env.CASSANDRA_KEYSPACE!)) throw new ConfigError(`CASSANDRA_KEYSPACE "${env.CASSANDRA_KEYSPACE}" in ${envPath} is not a plain keyspace name`);
  if (!/^[a-z0-9][a-z0-9_.-]*$/.test(env.ELASTICSEARCH_INDEX!)) throw new ConfigError(`ELASTICSEARCH_INDEX "${env.ELASTICSEARCH_INDEX}" in ${envPath} is not an index name`);
  return contextFrom(dir, envPath, env, composeFilesFrom(env, THEHIVE_COMPOSE_FILES));
}

/** .env's values over the caller's environment; THEHIVE_DIR is where the stack is now. */
export function theHiveComposeProject(ctx: TheHiveContext): ComposeProject {
  return stackComposeProject(ctx, 'THEHIVE_DIR', ctx.dir);
}
