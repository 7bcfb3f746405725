// The .env a first `up` writes: the variables of a real HOSS deployment,
// with fresh random secrets, plus what Compose needs to find the stack
// (project name, absolute compose file paths) and the stack's version.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SERVICES } from './context.ts';

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

export interface EnvTemplateInput {
  hossDir: string;
  project: string;
  composeFiles: readonly string[];
  version: string;
  backupRoot?: string;
  uid: number;
  gid: number;
  secret?: () => string;
}

export function renderEnv(input: EnvTemplateInput): string {
  const secret = input.secret ?? (() => randomSecret());
  const lines: Array<[string, string] | string> = [
    '# Settings and secrets of this HOSS stack, written by compose/stack on first up.',
    '# Losing this file loses access to the database, RabbitMQ and LDAP: back it up.',
    ['HOSS_VERSION', input.version],
    ['HOSS_DIR', input.hossDir],
    ['COMPOSE_PROJECT_NAME', input.project],
    ['COMPOSE_FILE', input.composeFiles.join(':')],
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
    // hossadm's helper containers use the locally built busybox: no registry here.
    ['HOSSADM_HELPER_IMAGE', 'hoss-local/busybox:local'],
    ['UID', String(input.uid)],
    ['GID', String(input.gid)],
  ];
  return `${lines.map((line) => (typeof line === 'string' ? line : `${line[0]}=${line[1]}`)).join('\n')}\n`;
}
