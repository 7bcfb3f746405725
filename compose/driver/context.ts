// Where one stack lives and what it is called: HOSS_DIR, its .env, the
// compose project and files, and the paths the compose file binds. Every
// verb starts from this, so all of them honour HOSS_DIR the same way.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvMap } from '../../src/config/env-file.ts';
import type { ComposeProject } from '../../src/docker/compose-cli.ts';
import { checkStackDir, composeFilesFrom, readStackEnv, stackComposeProject } from './stack-folder.ts';

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

export { checkStackDir };

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

export async function loadContext(hossDir = hossDirFromEnv()): Promise<StackContext> {
  const { envPath, env } = await readStackEnv(hossDir, { variable: 'HOSS_DIR', hint: 'run compose/stack up first, or set HOSS_DIR', checkDir: checkHossDir, required: REQUIRED });
  return {
    hossDir,
    envPath,
    env,
    project: env.COMPOSE_PROJECT_NAME!,
    composeFiles: composeFilesFrom(env, COMPOSE_FILES),
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
  return stackComposeProject(ctx, 'HOSS_DIR', ctx.hossDir);
}
