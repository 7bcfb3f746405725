// Postgres as a kind: roles and every configured database of one service,
// dumped by pg_dump inside the container and restored by pg_restore (an
// init script on a fresh host, a swap by rename in place).
import { object, onlyKeys, text } from '../../config/shape.ts';
import { parseValueRef, type ValueRef, type Values } from '../../config/values.ts';
import { ConfigError } from '../../errors.ts';
import type { Component, RunContext } from '../component.ts';
import type { ComponentKind } from '../registry.ts';
import { postgresBackupTask, preflightPostgres } from './pg-backup.ts';
import { withClient } from './pg-connection.ts';
import { postgresRestoreTask } from './pg-restore.ts';
import { postgresRecogniser } from './postgres-recognise.ts';

export interface PostgresConfig {
  service: string;
  user: ValueRef;
  password: ValueRef;
  databases: ValueRef[];
  /** The folder the service bind-mounts for dumps, inside the container. */
  containerBackupDir: string;
  /** Its host side, where a fresh-host restore places the dumps before the stack starts. */
  hostBackupDir: ValueRef;
  /** The data folder on the host (a fresh-host restore needs it empty). */
  dataDir?: ValueRef;
  /** The entrypoint's init-scripts folder on the host (where the restore script goes). */
  initScriptsDir?: ValueRef;
}

/** The settings resolved against one stack. */
export interface PgSettings {
  id: string;
  service: string;
  user: string;
  password: string;
  databases: string[];
  containerBackupDir: string;
  hostBackupDir: string;
  dataDir: string | undefined;
  initScriptsDir: string | undefined;
}

/** What every Postgres step gets: the run's context and this instance's settings. */
export type PgContext<C extends RunContext = RunContext> = C & { pg: PgSettings };

function createPostgres(id: string, config: PostgresConfig, values: Values): Component {
  const pg: PgSettings = {
    id,
    service: config.service,
    user: values.required(config.user, 'the Postgres user'),
    password: values.required(config.password, 'the Postgres password'),
    databases: config.databases.map((ref) => values.required(ref, 'a Postgres database name')),
    containerBackupDir: config.containerBackupDir,
    hostBackupDir: values.path(config.hostBackupDir, 'the Postgres backup folder') ?? '',
    dataDir: config.dataDir ? values.path(config.dataDir, 'DB_ROOT') : undefined,
    initScriptsDir: config.initScriptsDir ? values.path(config.initScriptsDir, 'DB_INIT_SCRIPTS') : undefined,
  };
  if (!pg.hostBackupDir) throw new ConfigError(`the Postgres backup folder of ${id} cannot be resolved`, { hint: `set what ${JSON.stringify(config.hostBackupDir)} names in ${values.envPath}` });
  return {
    id,
    kind: 'postgres',
    planBackup: () => [
      `pg_dumpall --globals-only in the ${pg.service} container into ${id}/globals.sql`,
      ...pg.databases.map((d) => `pg_dump --format=custom of ${d} (one snapshot taken while writers are stopped) into ${id}/${d}.dump`),
    ],
    keepRunning: () => [pg.service],
    hostPaths: () => [
      { what: `the ${id} data folder`, path: pg.dataDir },
      { what: `the ${id} init scripts folder`, path: pg.initScriptsDir },
      { what: `the ${id} backup folder`, path: pg.hostBackupDir },
    ],
    // The dumps pass through BACKUP_ROOT/.db on their way to pg_restore.
    restoresInto: () => 'backup-root',
    probes: () => pg.databases.map((database) => ({
      name: `Postgres answers on ${database}`,
      run: (ctx: RunContext) => withClient({ ...ctx, pg }, database, async (client) => void (await client.query('select 1'))),
    })),
    preflightBackup: (ctx) => preflightPostgres({ ...ctx, pg }),
    backup: (ctx) => postgresBackupTask({ ...ctx, pg }),
    restore: (ctx) => postgresRestoreTask({ ...ctx, pg }),
  };
}

export const postgresKind: ComponentKind<PostgresConfig> = {
  name: 'postgres',
  summary: 'Postgres roles and databases of one service, by pg_dump and pg_restore in its container',
  recognisers: [postgresRecogniser],
  parse(raw, at) {
    const c = object(raw, at);
    onlyKeys(c, at, ['service', 'user', 'password', 'databases', 'containerBackupDir', 'hostBackupDir', 'dataDir', 'initScriptsDir']);
    if (!Array.isArray(c.databases) || c.databases.length === 0) throw new ConfigError(`stack profile: "${at}.databases" must be a non-empty list`);
    return {
      service: text(c.service, `${at}.service`),
      user: parseValueRef(c.user, `${at}.user`),
      password: parseValueRef(c.password, `${at}.password`),
      databases: c.databases.map((d: unknown, i) => parseValueRef(d, `${at}.databases[${i}]`)),
      containerBackupDir: text(c.containerBackupDir, `${at}.containerBackupDir`),
      hostBackupDir: parseValueRef(c.hostBackupDir, `${at}.hostBackupDir`),
      ...(c.dataDir === undefined ? {} : { dataDir: parseValueRef(c.dataDir, `${at}.dataDir`) }),
      ...(c.initScriptsDir === undefined ? {} : { initScriptsDir: parseValueRef(c.initScriptsDir, `${at}.initScriptsDir`) }),
    };
  },
  create: createPostgres,
};
