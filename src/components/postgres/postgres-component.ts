// Postgres as one component: roles and every database named in .env.
import type { Component } from '../component.ts';
import { dumpMember, GLOBALS_MEMBER, postgresBackupTask, preflightPostgres } from './pg-backup.ts';
import { postgresRestoreTask } from './pg-restore.ts';

export const postgresComponent: Component = {
  id: 'postgres',
  planBackup(config) {
    return [
      `pg_dumpall --globals-only in the ${config.postgres.service} container into ${GLOBALS_MEMBER}`,
      ...config.postgres.databases.map((d) => `pg_dump --format=custom of ${d} (one snapshot taken while writers are stopped) into ${dumpMember(d)}`),
    ];
  },
  ownsMember: (name) => name.startsWith('postgres/'),
  preflightBackup: preflightPostgres,
  backup: postgresBackupTask,
  restore: postgresRestoreTask,
};
