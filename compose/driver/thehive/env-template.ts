// The .env a first `up` writes for the TheHive stack: what the prod1-thehive
// profile keeps there (UID/GID), the Cassandra role and its random password,
// the keyspace and index names, plus what Compose needs (project, absolute
// compose file paths) and the stack's version.
import { join } from 'node:path';
import { randomSecret } from '../env-template.ts';

export interface TheHiveEnvInput {
  dir: string;
  project: string;
  composeFiles: readonly string[];
  version: string;
  backupRoot?: string;
  uid: number;
  gid: number;
  secret?: () => string;
}

export function renderTheHiveEnv(input: TheHiveEnvInput): string {
  const secret = input.secret ?? (() => randomSecret());
  const lines: Array<[string, string] | string> = [
    '# Settings and secrets of this TheHive stack, written by compose/stack on first up.',
    '# Losing this file loses the Cassandra login: back it up.',
    ['THEHIVE_VERSION', input.version],
    ['THEHIVE_DIR', input.dir],
    ['COMPOSE_PROJECT_NAME', input.project],
    ['COMPOSE_FILE', input.composeFiles.join(':')],
    ['BACKUP_ROOT', input.backupRoot ?? join(input.dir, 'backup')],
    ['CASSANDRA_USER', 'thehive'],
    ['CASSANDRA_PASSWORD', secret()],
    ['CASSANDRA_KEYSPACE', 'thehive'],
    ['ELASTICSEARCH_INDEX', 'thehive_global'],
    ['HOSSADM_HELPER_IMAGE', 'hoss-local/busybox:local'],
    ['UID', String(input.uid)],
    ['GID', String(input.gid)],
  ];
  return `${lines.map((line) => (typeof line === 'string' ? line : `${line[0]}=${line[1]}`)).join('\n')}\n`;
}
