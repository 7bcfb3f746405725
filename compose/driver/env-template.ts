// The .env a first `up` writes: the variables of a real HOSS deployment,
// with fresh random secrets, plus what Compose needs to find the stack
// (project name, absolute compose file paths) and the stack's version.
// renderStackEnv and ensureStackEnv serve every reference stack.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SERVICES } from './context.ts';
import { say } from './runtime.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Letters and digits only, so the value needs no quoting in .env, URLs or LDIF. */
export function randomSecret(length = 48): string {
  const out: string[] = [];
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: dropping the rest keeps every character equally likely.
      if (byte < 248 && out.length < length) out.push(ALPHABET[byte % 62]!);
    }
  }
  return out.join('');
}

/** What every stack's .env starts from: its Compose project, files and version, where backups go, the host ids. */
export interface StackEnvInput {
  project: string;
  composeFiles: readonly string[];
  version: string;
  backupRoot?: string;
  uid: number;
  gid: number;
  secret?: () => string;
}

/** A comment line, or a NAME=value line. */
export type EnvLine = [string, string] | string;

export interface StackEnvLayout {
  /** The comment lines at the top. */
  header: readonly string[];
  /** The variables naming the stack's version and folder (HOSS_VERSION, HOSS_DIR). */
  versionKey: string;
  dirKey: string;
  dir: string;
  /** The stack's own variables, between COMPOSE_FILE and HOSSADM_HELPER_IMAGE. */
  settings: (secret: () => string) => readonly EnvLine[];
}

/**
 * A stack's .env: header, version and folder, what Compose needs to find the
 * stack (project name, absolute compose file paths), the stack's own
 * settings with fresh random secrets, the helper image and the host ids.
 */
export function renderStackEnv(input: StackEnvInput, layout: StackEnvLayout): string {
  const secret = input.secret ?? (() => randomSecret());
  const lines: EnvLine[] = [
    ...layout.header,
    [layout.versionKey, input.version],
    [layout.dirKey, layout.dir],
    ['COMPOSE_PROJECT_NAME', input.project],
    ['COMPOSE_FILE', input.composeFiles.join(':')],
    ...layout.settings(secret),
    // hossadm's helper containers use the locally built busybox: no registry here.
    ['HOSSADM_HELPER_IMAGE', 'hoss-local/busybox:local'],
    ['UID', String(input.uid)],
    ['GID', String(input.gid)],
  ];
  return `${lines.map((line) => (typeof line === 'string' ? line : `${line[0]}=${line[1]}`)).join('\n')}\n`;
}

/** A stack folder's .env (TheHive, CyberSift): BACKUP_ROOT (default <dir>/backup) first among its settings. */
export interface StackFolderEnvInput extends StackEnvInput {
  dir: string;
}

export interface StackFolderEnvLayout {
  /** The stack's name in the header ("TheHive") and what losing the file loses ("the Cassandra login"). */
  name: string;
  loses: string;
  /** <prefix>_VERSION and <prefix>_DIR. */
  prefix: string;
  /** The settings after BACKUP_ROOT. */
  settings: (secret: () => string) => readonly EnvLine[];
}

export function renderStackFolderEnv(input: StackFolderEnvInput, layout: StackFolderEnvLayout): string {
  return renderStackEnv(input, {
    header: [`# Settings and secrets of this ${layout.name} stack, written by compose/stack on first up.`, `# Losing this file loses ${layout.loses}: back it up.`],
    versionKey: `${layout.prefix}_VERSION`,
    dirKey: `${layout.prefix}_DIR`,
    dir: input.dir,
    settings: (secret) => [['BACKUP_ROOT', input.backupRoot ?? join(input.dir, 'backup')], ...layout.settings(secret)],
  });
}

/** The stack's version: the VERSION file beside its compose files. */
export async function readStackVersion(composeDir: string): Promise<string> {
  return (await readFile(join(composeDir, 'VERSION'), 'utf8')).trim();
}

export interface StackEnvWriter {
  /** COMPOSE_PROJECT_NAME when the environment does not set it. */
  defaultProject: string;
  composeFiles: readonly string[];
  /** The folder of the compose files, whose VERSION file names the stack's version. */
  composeDir: string;
  render: (input: StackEnvInput) => string;
  /** What the progress line says the new file holds ("new secrets"). */
  holds: string;
}

/**
 * Writes <dir>/.env unless it exists, from the environment of the first `up`
 * (COMPOSE_PROJECT_NAME, BACKUP_ROOT) and the host ids; true when it was written.
 */
export async function ensureStackEnv(dir: string, writer: StackEnvWriter): Promise<boolean> {
  const envPath = join(dir, '.env');
  if (existsSync(envPath)) return false;
  const backupRoot = process.env.BACKUP_ROOT?.trim();
  const text = writer.render({
    project: process.env.COMPOSE_PROJECT_NAME?.trim() || writer.defaultProject,
    composeFiles: writer.composeFiles,
    version: await readStackVersion(writer.composeDir),
    ...(backupRoot ? { backupRoot } : {}),
    uid: process.getuid?.() ?? 1000,
    gid: process.getgid?.() ?? 1000,
  });
  await mkdir(dir, { recursive: true });
  // Secrets: readable by the operator only.
  await writeFile(envPath, text, { mode: 0o600, flag: 'wx' });
  say(`wrote ${envPath} with ${writer.holds}`);
  return true;
}

export interface EnvTemplateInput extends StackEnvInput {
  hossDir: string;
}

export function renderEnv(input: EnvTemplateInput): string {
  return renderStackEnv(input, {
    header: [
      '# Settings and secrets of this HOSS stack, written by compose/stack on first up.',
      '# Losing this file loses access to the database, RabbitMQ and LDAP: back it up.',
    ],
    versionKey: 'HOSS_VERSION',
    dirKey: 'HOSS_DIR',
    dir: input.hossDir,
    settings: (secret) => [
      ['SERVICES', SERVICES.join(' ')],
      ['POSTGRES_USER', 'postgres'],
      ['POSTGRES_PASSWORD', secret()],
      ['POSTGRES_CORE_DB', 'hoss_core'],
      ['POSTGRES_AUTH_DB', 'hoss_auth'],
      ['DB_ROOT', join(input.hossDir, 'data', 'db')],
      ['DB_INIT_SCRIPTS', join(input.hossDir, 'core', 'db-init-scripts')],
      ['BACKUP_ROOT', input.backupRoot ?? join(input.hossDir, 'backup')],
      ['RABBITMQ_USER', 'hoss'],
      ['RABBITMQ_PASS', secret()],
      ['RABBITMQ_COOKIE', secret()],
      ['LDAP_ORGANISATION', 'HOSS'],
      ['LDAP_DOMAIN', 'hoss.example.org'],
      ['LDAP_ADMIN_PASSWORD', secret()],
    ],
  });
}
