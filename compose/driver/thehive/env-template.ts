// The .env a first `up` writes for the TheHive stack: what the prod1-thehive
// profile keeps there (UID/GID), the Cassandra role and its random password,
// the keyspace and index names, plus what Compose needs (project, absolute
// compose file paths) and the stack's version.
import { renderStackFolderEnv, type StackFolderEnvInput } from '../env-template.ts';

export type TheHiveEnvInput = StackFolderEnvInput;

export function renderTheHiveEnv(input: TheHiveEnvInput): string {
  return renderStackFolderEnv(input, {
    name: 'TheHive',
    loses: 'the Cassandra login',
    prefix: 'THEHIVE',
    settings: (secret) => [
      ['CASSANDRA_USER', 'thehive'],
      ['CASSANDRA_PASSWORD', secret()],
      ['CASSANDRA_KEYSPACE', 'thehive'],
      ['ELASTICSEARCH_INDEX', 'thehive_global'],
    ],
  });
}
