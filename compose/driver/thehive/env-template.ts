// The .env a first `up` writes for the TheHive stack: what the prod1-thehive
// profile keeps there (UID/GID), the Cassandra role and its random password,
// the keyspace and index names, plus what Compose needs (project, absolute
// compose file paths) and the stack's version.
import { join } from 'node:path';
import { renderStackEnv, type StackEnvInput } from '../env-template.ts';

export interface TheHiveEnvInput extends StackEnvInput {
  dir: string;
}

export function renderTheHiveEnv(input: TheHiveEnvInput): string {
  return renderStackEnv(input, {
    header: [
      '# Settings and secrets of this TheHive stack, written by compose/stack on first up.',
      '# Losing this file loses the Cassandra login: back it up.',
    ],
    versionKey: 'THEHIVE_VERSION',
    dirKey: 'THEHIVE_DIR',
    dir: input.dir,
    settings: (secret) => [
      ['BACKUP_ROOT', input.backupRoot ?? join(input.dir, 'backup')],
      ['CASSANDRA_USER', 'thehive'],
      ['CASSANDRA_PASSWORD', secret()],
      ['CASSANDRA_KEYSPACE', 'thehive'],
      ['ELASTICSEARCH_INDEX', 'thehive_global'],
    ],
  });
}
