// Where one stack lives and what it is called: HOSS_DIR, its .env, the
// compose project and files, and the paths the compose file binds. Every
// verb starts from this, so all of them honour HOSS_DIR the same way.
import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEnvFile, type EnvMap } from '../../src/config/env-file.ts';
import { ConfigError } from '../../src/errors.ts';
import type { ComposeProject } from '../../src/docker/compose-cli.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_DIR = join(REPO_ROOT, 'compose', 'server');
export const COMPOSE_FILES = [join(SERVER_DIR, 'docker-compose.yaml'), join(SERVER_DIR, 'docker-compose.local.yaml')];

/** Services of the stack, in the order `up` reports them. */
export const SERVICES = ['db', 'opensearch', 'ldap', 'auth', 'rabbitmq', 'core'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Named volumes as the compose file names them; the engine prefixes the project. */
export const VOLUMES = ['auth-secrets', 'ldap-vol0', 'ldap-vol1', 'rabbitmq-data'] as const;

const REQUIRED = [
  'COMPOSE_PROJECT_NAME',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
  'POSTGRES_CORE_DB',
  'POSTGRES_AUTH_DB',
  'BACKUP_ROOT',
  'DB_ROOT',
  'DB_INIT_SCRIPTS',
  'RABBITMQ_USER',
  'RABBITMQ_PASS',
  'LDAP_DOMAIN',
  'LDAP_ADMIN_PASSWORD',
] as const;

export function hossDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.HOSS_DIR?.trim();
  return resolve(raw ? raw : join(homedir(), '.hoss'));
}

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

/** HOSS_DIR may be missing (up creates it) but never something other than a folder. */
export async function checkHossDir(hossDir: string): Promise<boolean> {
  return checkStackDir(hossDir, 'HOSS_DIR', 'point HOSS_DIR at a folder, or remove that file');
}

export interface StackContext {
  hossDir: string;
  envPath: string;
  env: EnvMap;
  project: string;
  composeFiles: string[];
  backupRoot: string;
  ldapBase: string;
  /** SERVICES of .env: which services this deployment runs, as in the real stack. */
  services: ServiceName[];
}

export function deployedServices(env: EnvMap): ServiceName[] {
  const listed = (env.SERVICES ?? SERVICES.join(' ')).split(/[\s,]+/);
  return SERVICES.filter((s) => listed.includes(s));
}

export function ldapBaseDn(domain: string): string {
  return domain
    .split('.')
    .filter(Boolean)
    .map((part) => `dc=${part}`)
    .join(',');
}

/** The compose files .env names, unless they are gone (a moved checkout): then this checkout's. */
export function composeFilesFrom(env: EnvMap): string[] {
  const listed = (env.COMPOSE_FILE ?? '').split(':').filter(Boolean);
  if (listed.length > 0 && listed.every((f) => existsSync(f))) return listed;
  if (listed.length > 0) {
    process.stderr.write(`stack: COMPOSE_FILE in .env names missing files; using ${COMPOSE_FILES.join(':')}\n`);
  }
  return COMPOSE_FILES;
}

export async function loadContext(hossDir = hossDirFromEnv()): Promise<StackContext> {
  if (!(await checkHossDir(hossDir))) {
    throw new ConfigError(`HOSS_DIR ${hossDir} does not exist`, { hint: 'run compose/stack up first, or set HOSS_DIR' });
  }
  const envPath = join(hossDir, '.env');
  if (!existsSync(envPath)) {
    throw new ConfigError(`no stack configuration at ${envPath}`, { hint: 'run compose/stack up first, or set HOSS_DIR' });
  }
  const env = await readEnvFile(envPath);
  const missing = REQUIRED.filter((key) => !env[key]);
  if (missing.length > 0) throw new ConfigError(`${envPath} lacks ${missing.join(', ')}`);
  return {
    hossDir,
    envPath,
    env,
    project: env.COMPOSE_PROJECT_NAME!,
    composeFiles: composeFilesFrom(env),
    backupRoot: resolve(env.BACKUP_ROOT!),
    ldapBase: ldapBaseDn(env.LDAP_DOMAIN!),
    services: deployedServices(env),
  };
}

/**
 * Compose substitutes ${VARS} from the process environment before the env
 * file, so the child gets .env's values on top of ours: a stray
 * POSTGRES_PASSWORD in the caller's shell must not reach the stack. HOSS_DIR
 * is where the stack is now, whatever .env remembers.
 */
export function composeProject(ctx: StackContext): ComposeProject {
  return {
    project: ctx.project,
    files: ctx.composeFiles,
    envFile: ctx.envPath,
    env: { ...process.env, ...ctx.env, HOSS_DIR: ctx.hossDir },
  };
}
