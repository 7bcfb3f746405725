// Connections from hossadm to the stack's Postgres, at the db container's
// address on its compose network: no port needs publishing on the host.
import { OperationError } from '../../errors.ts';
import type { RunContext } from '../component.ts';
import type { PgContext } from './postgres-component.ts';
import { findServiceContainer, requireRunning } from '../../docker/compose-services.ts';
import { hostFolderMountedAt } from '../mounted-folder.ts';

/** What the kind uses of a client: pg.Client, or what RunContext.connect gives. */
export type PgClient = ReturnType<NonNullable<NonNullable<RunContext['connect']>['postgres']>>;

export async function dbContainer(ctx: PgContext) {
  const container = await findServiceContainer(ctx.docker, ctx.config.project, ctx.pg.service);
  requireRunning(container);
  return container;
}

export async function connect(ctx: PgContext, database: string): Promise<PgClient> {
  const container = await dbContainer(ctx);
  const host = await ctx.docker.containerAddress(container.id);
  const settings = {
    host,
    port: 5432,
    user: ctx.pg.user,
    password: ctx.pg.password,
    database,
    connectionTimeoutMillis: 10_000,
  };
  // pg is loaded here, not at start: commands and stacks without Postgres do not pay for its memory.
  const client = ctx.connect?.postgres?.(settings) ?? new (await import('pg')).default.Client(settings);
  try {
    await client.connect();
  } catch (error) {
    throw new OperationError(`cannot connect to Postgres database "${database}" at ${host}: ${(error as Error).message}`, {
      hint: `check ${ctx.pg.service} is healthy and the credentials in ${ctx.config.envPath}`,
      cause: error,
    });
  }
  return client;
}

export async function withClient<T>(ctx: PgContext, database: string, work: (client: PgClient) => Promise<T>): Promise<T> {
  const client = await connect(ctx, database);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Exact row counts of every user table, keyed schema.table: the content fingerprint of a database. */
export async function countRows(client: PgClient): Promise<Record<string, number>> {
  const tables = await client.query<{ schema: string; name: string }>(
    `select n.nspname as schema, c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg_toast%' and n.nspname not like 'pg_temp%'
      order by 1, 2`,
  );
  const counts: Record<string, number> = {};
  for (const { schema, name } of tables.rows) {
    const result = await client.query<{ n: string }>(`select count(*) as n from ${quoteIdent(schema)}.${quoteIdent(name)}`);
    counts[`${schema}.${name}`] = Number(result.rows[0]!.n);
  }
  return counts;
}

export function majorOf(version: string): number {
  const match = /(\d+)(?:\.(\d+))?/.exec(version);
  if (!match) throw new OperationError(`cannot read a Postgres version from "${version}"`);
  return Number(match[1]);
}

/** Host side of the db container's backup folder, where dumps pass through pipes. */
export function dumpFolder(ctx: PgContext, containerId: string): Promise<string> {
  const { service, containerBackupDir } = ctx.pg;
  return hostFolderMountedAt(ctx, containerId, service, containerBackupDir, `add "\${BACKUP_ROOT}/.db:${containerBackupDir}" to the ${service} service's volumes and recreate it`);
}
