// Postgres backup: globals (roles) and one custom-format dump per database,
// each made by pg_dump inside the db container through the engine's exec.
// Every dump reads a snapshot exported while the writers were stopped, and
// the row counts for the manifest are taken in that same snapshot, so the
// dump and its fingerprint agree even when writers run again meanwhile.
import { Readable } from 'node:stream';
import { readFromContainer, releaseLeftPipes } from '../../core/fifo.ts';
import { OperationError, PreflightError } from '../../errors.ts';
import { type BackupContext, type BackupFacts, type BackupTask, type ComponentRecord, type ContentFingerprint, frozenIn } from '../component.ts';
import type { PgContext } from './postgres-component.ts';
import { connect, countRows, dbContainer, dumpFolder, majorOf, type PgClient, withClient } from './pg-connection.ts';

export const globalsMember = (id: string) => `${id}/globals.sql`;
export const dumpMember = (id: string, database: string) => `${id}/${database}.dump`;

function secretEnv(ctx: PgContext<BackupContext>): Record<string, string> {
  return { PGPASSWORD: ctx.pg.password };
}

export async function preflightPostgres(ctx: PgContext<BackupContext>): Promise<BackupFacts> {
  const container = await dbContainer(ctx);
  const dumpVersion = await ctx.docker.exec(container.id, ['pg_dump', '--version']);
  if (dumpVersion.exitCode !== 0) {
    throw new PreflightError(`pg_dump does not run in ${container.name}`, { details: dumpVersion.stderr.trim() });
  }
  const pgDump = dumpVersion.stdout.trim().replace(/^pg_dump \(PostgreSQL\)\s*/, '');
  const left = await releaseLeftPipes(await dumpFolder(ctx, container.id));
  if (left.length > 0) ctx.reporter.warn(`removed the pipe(s) ${left.join(', ')} an interrupted run left to pg_dump`);
  return withClient(ctx, 'postgres', async (client) => {
    const server = (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    if (majorOf(pgDump) < majorOf(server)) {
      throw new PreflightError(`pg_dump ${pgDump} in ${container.name} is older than the server ${server}`, {
        hint: 'pg_dump refuses newer servers: run the image whose client matches the server',
      });
    }
    const present = (await client.query<{ datname: string }>('select datname from pg_database')).rows.map((r) => r.datname);
    for (const database of ctx.pg.databases) {
      if (!present.includes(database)) {
        throw new PreflightError(`database "${database}" named in ${ctx.config.envPath} does not exist on ${container.name}`);
      }
    }
    const size = await client.query<{ bytes: string }>('select coalesce(sum(pg_database_size(datname)), 0) as bytes from pg_database where datname = any($1)', [
      ctx.pg.databases,
    ]);
    return { versions: { postgresServer: server, pgDump }, estimatedBytes: Number(size.rows[0]!.bytes) };
  });
}

export function postgresBackupTask(ctx: PgContext<BackupContext>): BackupTask {
  const sessions = new Map<string, { client: PgClient; snapshot: string }>();
  const fingerprint: ContentFingerprint = {};
  const closeAll = async () => {
    for (const { client } of sessions.values()) {
      await client.query('rollback').catch(() => undefined);
      await client.end().catch(() => undefined);
    }
    sessions.clear();
  };
  return {
    async prepare() {
      for (const database of ctx.pg.databases) {
        sessions.set(database, { client: await connect(ctx, database), snapshot: '' });
      }
    },
    // The exported snapshots read no writer's files, and the row counts are taken in them: no writer needs to stop.
    ...frozenIn([{
      label: `${ctx.pg.id} snapshots (pg_export_snapshot)`,
      mounts: [],
      run: async () => {
        for (const [database, session] of sessions) {
          await session.client.query('begin isolation level repeatable read read only');
          session.snapshot = (await session.client.query<{ id: string }>('select pg_export_snapshot() as id')).rows[0]!.id;
          ctx.reporter.info(`  postgres ${database}: snapshot ${session.snapshot} taken`);
        }
      },
    }]),
    async finish(): Promise<ComponentRecord> {
      try {
        const container = await dbContainer(ctx);
        const hostDir = await dumpFolder(ctx, container.id);
        await ctx.reporter.step('postgres roles (pg_dumpall --globals-only)', async () => {
          const globals = await ctx.docker.exec(container.id, ['pg_dumpall', '--globals-only', '--username', ctx.pg.user], { env: secretEnv(ctx) });
          if (globals.exitCode !== 0) {
            throw new OperationError(`pg_dumpall --globals-only failed with exit code ${globals.exitCode}`, { details: globals.stderr.trim() });
          }
          return ctx.staging.add(ctx.pg.id, globalsMember(ctx.pg.id), Readable.from([globals.stdout]));
        });
        for (const [database, session] of sessions) {
          const pipe = `${database}.dump.pipe`;
          const staged = await ctx.reporter.step(`postgres ${database} (pg_dump)`, () =>
            readFromContainer(
              { hostDir, name: pipe },
              (input) => ctx.staging.add(ctx.pg.id, dumpMember(ctx.pg.id, database), input),
              async () => {
                const argv = [
                  'pg_dump', '--format=custom', '--compress=0', '--no-sync', `--snapshot=${session.snapshot}`,
                  '--username', ctx.pg.user, '--dbname', database,
                  '--file', `${ctx.pg.containerBackupDir}/${pipe}`,
                ];
                const result = await ctx.docker.exec(container.id, argv, { env: secretEnv(ctx), user: '0' });
                if (result.exitCode !== 0) {
                  throw new OperationError(`pg_dump of "${database}" failed with exit code ${result.exitCode}`, {
                    details: result.stderr.trim(),
                    hint: 'the stack is unchanged; fix the cause shown and run the backup again',
                  });
                }
              },
            ),
            (m) => `${m.size} bytes`,
          );
          void staged;
          fingerprint[database] = await countRows(session.client);
          await session.client.query('commit');
        }
        return {
          details: { databases: ctx.pg.databases, globals: globalsMember(ctx.pg.id), format: 'pg_dump custom' },
          fingerprint,
          live: false,
        };
      } finally {
        await closeAll();
      }
    },
    abort: closeAll,
  };
}
