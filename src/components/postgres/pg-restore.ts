// Postgres restore, in the two situations an operator meets:
// - fresh host: the dumps and an init script (templates/postgres) go where
//   the db container's entrypoint finds them on the first start of its empty
//   data folder; hossadm then checks the script's status file, never assumes.
// - stack still there: each database is loaded into a new database next to
//   the live one and swapped in by renames, so a failing pg_restore leaves
//   the old data in place.
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { ensureDir, remove } from 'fs-extra/esm';
import { OperationError, PreflightError } from '../../errors.ts';
import type { RestoreContext, RestoreTask } from '../component.ts';
import { globalsMember } from './pg-backup.ts';
import type { PgContext } from './postgres-component.ts';
import { projectContainers } from '../../docker/compose-services.ts';
import { countRows, dbContainer, dumpFolder, majorOf, quoteIdent, withClient } from './pg-connection.ts';

export const INIT_SCRIPT_NAME = 'zz-hossadm-restore.sh';
/** The folder the template names, replaced by the instance's own. */
const TEMPLATE_DIR = '/mnt/backup/hossadm-restore';
const templatePath = fileURLToPath(new URL(`../../../templates/postgres/${INIT_SCRIPT_NAME}`, import.meta.url));
const SAFE_DB = /^[A-Za-z0-9_-]+$/;

/**
 * pg_dumpall writes CREATE ROLE then ALTER ROLE for each role. On a server
 * where a role already exists (initdb's superuser, or one the stack's init
 * scripts made) CREATE ROLE would stop the load, so it becomes a guarded
 * create; the ALTER ROLE that follows still sets every attribute and password.
 */
export function tolerantGlobals(sql: string): string {
  return sql.replace(/^CREATE ROLE ([^;]+);$/gm, (_line, role: string) =>
    `DO $hossadm$ BEGIN CREATE ROLE ${role}; EXCEPTION WHEN duplicate_object THEN NULL; END $hossadm$;`,
  );
}

export function postgresRestoreTask(ctx: PgContext<RestoreContext>): RestoreTask {
  const databases = ((ctx.record.details.databases ?? []) as string[]).filter((d) => typeof d === 'string');
  const postgres = ctx.pg;
  // One folder per instance: two Postgres services may share one backup folder.
  const folder = `hossadm-restore-${postgres.id}`;
  let hostDir = join(postgres.hostBackupDir, folder);
  const containerDir = `${postgres.containerBackupDir}/${folder}`;

  const exec = async (argv: string[], what: string) => {
    const container = await dbContainer(ctx);
    const result = await ctx.docker.exec(container.id, argv, { env: { PGPASSWORD: postgres.password }, user: '0' });
    if (result.exitCode !== 0) {
      throw new OperationError(`${what} failed with exit code ${result.exitCode}`, { details: result.stderr.trim() });
    }
    return result;
  };

  const cleanup = async () => {
    await remove(hostDir);
    if (postgres.initScriptsDir) await rm(join(postgres.initScriptsDir, INIT_SCRIPT_NAME), { force: true });
  };

  const initFailed = (why: string) =>
    new OperationError(`the Postgres restore init script did not complete: ${why}`, {
      hint: `see "docker logs" of the ${postgres.service} container; DB_ROOT now holds a partial database: empty it before retrying`,
    });

  // The entrypoint runs init scripts before Postgres listens on TCP, and a
  // restart after a failed script skips them: so "listening without ok",
  // or any restart, means the script failed, whatever it managed to write.
  const waitForInitScript = async () => {
    const statusFile = join(hostDir, 'status');
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const status = (await readFile(statusFile, 'utf8').catch(() => '')).trim();
      if (status === 'ok') return;
      if (status.startsWith('failed')) throw initFailed(status);
      const containers = await projectContainers(ctx.docker, ctx.config.project);
      const db = containers.find((c) => c.service === postgres.service);
      if (db) {
        const info = await ctx.docker.inspectContainer(db.id);
        if (info.RestartCount > 0) throw initFailed(`the ${postgres.service} container restarted (status "${status}")`);
        if (info.State.Running && status !== 'running') {
          const listening = await withClient(ctx, 'postgres', async () => true).catch(() => false);
          const again = (await readFile(statusFile, 'utf8').catch(() => '')).trim();
          if (listening && again !== 'ok') throw initFailed(`Postgres accepts connections but the script reported "${again}"`);
        }
      }
      if (Date.now() > deadline) throw initFailed('no result within 30 minutes');
      await new Promise((r) => setTimeout(r, 1000));
    }
  };

  return {
    async describe() {
      return databases.map((d) =>
        ctx.situation === 'fresh'
          ? `postgres ${d}: loaded by ${INIT_SCRIPT_NAME} on the first start of the empty data folder`
          : `postgres ${d}: replaced (loaded into a new database, then swapped in by rename)`,
      );
    },

    async preflight() {
      for (const d of databases) {
        if (!SAFE_DB.test(d)) throw new PreflightError(`database name "${d}" in the archive is not a plain name`);
      }
      if (ctx.situation === 'fresh') {
        if (!postgres.initScriptsDir) throw new PreflightError('DB_INIT_SCRIPTS is not set in the archived .env', { hint: 'set it in .env' });
        const existing = postgres.dataDir ? await readdir(postgres.dataDir).catch(() => []) : [];
        if (existing.length > 0) {
          throw new PreflightError(`DB_ROOT ${postgres.dataDir} already holds a database, so the init-script restore would not run`, {
            hint: 'restore onto the running stack instead (bring it up first), or empty DB_ROOT',
          });
        }
      } else {
        const container = await dbContainer(ctx);
        hostDir = join(await dumpFolder(ctx, container.id), folder);
        const live = await withClient(ctx, 'postgres', async (c) => (await c.query<{ server_version: string }>('show server_version')).rows[0]!.server_version);
        const saved = ctx.record.versions?.postgresServer;
        if (saved && majorOf(saved) !== majorOf(live)) {
          const message = `the archive's databases come from Postgres ${saved}, the running server is ${live}`;
          if (!ctx.forceVersion) throw new PreflightError(message, { hint: 'run the Postgres major version the backup was taken with, or add --force-version' });
          ctx.reporter.warn(`${message}; going on because of --force-version`);
        }
      }
    },

    async receive(member, input) {
      await ensureDir(hostDir, { mode: 0o755 });
      // Readable by the container's postgres user, which runs the init script;
      // the files are removed as soon as the restore is proven.
      const isGlobals = member === globalsMember(postgres.id);
      const name = isGlobals ? 'globals.raw.sql' : member.slice(postgres.id.length + 1);
      await pipeline(input, createWriteStream(join(hostDir, name), { mode: 0o644 }));
      if (isGlobals) {
        const raw = await readFile(join(hostDir, name), 'utf8');
        await writeFile(join(hostDir, 'globals.sql'), tolerantGlobals(raw), { mode: 0o644 });
        await rm(join(hostDir, name));
      }
    },

    async beforeStart() {
      await writeFile(join(hostDir, 'databases'), `${databases.join('\n')}\n`, { mode: 0o644 });
      // The script runs as the container's postgres user: it may rewrite this file, nothing else here.
      await writeFile(join(hostDir, 'status'), 'pending\n', { mode: 0o666 });
      await chmod(join(hostDir, 'status'), 0o666);
      await ensureDir(postgres.initScriptsDir!);
      // The script finds this instance's folder as the container mounts it.
      const script = (await readFile(templatePath, 'utf8')).replace(TEMPLATE_DIR, containerDir);
      await writeFile(join(postgres.initScriptsDir!, INIT_SCRIPT_NAME), script, { mode: 0o755 });
    },

    async load() {
      if (ctx.situation === 'fresh') {
        await ctx.reporter.step('postgres init-script restore', waitForInitScript);
        await cleanup();
        return;
      }
      await ctx.reporter.step('postgres roles', () =>
        exec(['psql', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '--username', postgres.user, '--dbname', 'postgres', '--file', `${containerDir}/globals.sql`], 'loading roles'),
      );
      for (const database of databases) {
        await ctx.reporter.step(`postgres ${database} (pg_restore)`, () => swapIn(database));
      }
      await cleanup();
    },

    async fingerprint() {
      const result: Record<string, Record<string, number>> = {};
      for (const database of databases) result[database] = await withClient(ctx, database, countRows);
      return result;
    },
  };

  async function swapIn(database: string): Promise<void> {
    const fresh = `${database}__hossadm_new`;
    const old = `${database}__hossadm_old`;
    await withClient(ctx, 'postgres', async (client) => {
      const owner = await client.query<{ owner: string }>(
        'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
        [database],
      );
      // A killed run may have left this copy, with its pg_restore session still loading it.
      await client.query(`drop database if exists ${quoteIdent(fresh)} with (force)`);
      const ownerClause = owner.rows[0] ? ` owner ${quoteIdent(owner.rows[0].owner)}` : '';
      await client.query(`create database ${quoteIdent(fresh)} template template0${ownerClause}`);
    });
    await exec(
      ['pg_restore', '--exit-on-error', '--single-transaction', '--username', postgres.user, '--dbname', fresh, `${containerDir}/${database}.dump`],
      `pg_restore of ${database}`,
    );
    await withClient(ctx, 'postgres', async (client) => {
      // Writers are stopped, but a stray session would block the rename.
      await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [database]);
      await client.query(`drop database if exists ${quoteIdent(old)}`);
      const exists = (await client.query('select 1 from pg_database where datname = $1', [database])).rowCount;
      if (exists) await client.query(`alter database ${quoteIdent(database)} rename to ${quoteIdent(old)}`);
      await client.query(`alter database ${quoteIdent(fresh)} rename to ${quoteIdent(database)}`);
      if (exists) await client.query(`drop database ${quoteIdent(old)} with (force)`);
    });
  }
}
