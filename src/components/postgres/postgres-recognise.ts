// How `hossadm init` recognises a Postgres service and writes its instance:
// pg_dump needs a writable bind-mounted folder for the dumps and a
// bind-mounted /docker-entrypoint-initdb.d (a fresh host restores through
// it); without them the data is copied as files. The server is asked which
// databases it holds, so the profile names them all, not only POSTGRES_DB.
import type { ServiceFacts } from '../../core/init/facts.ts';
import type { DockerClient } from '../../docker/types.ts';
import { bindAt, mountAt, type Recognised, type RecogniseContext, type ServiceRecogniser } from '../recogniser.ts';

/** Names the dump folder (a bind mount's path in the container) when more than one could be. */
export const POSTGRES_BACKUP_DIR_LABEL = 'hossadm.postgres.backup-dir';

const userOf = (s: ServiceFacts) => s.env.POSTGRES_USER || 'postgres';

async function askDatabases(s: ServiceFacts, docker: DockerClient): Promise<string[] | undefined> {
  const result = await docker
    .exec(
      s.containerId,
      [
        'psql',
        '-At',
        '--no-psqlrc',
        '-U',
        userOf(s),
        '-d',
        'postgres',
        '-c',
        "select datname from pg_database where not datistemplate and datname <> 'postgres' order by 1",
      ],
      { env: s.env.POSTGRES_PASSWORD ? { PGPASSWORD: s.env.POSTGRES_PASSWORD } : {} },
    )
    .catch(() => undefined);
  return result?.exitCode === 0 ? result.stdout.split('\n').filter((l) => /^[A-Za-z0-9_-]+$/.test(l)) : undefined;
}

function planPostgres(s: ServiceFacts, ctx: RecogniseContext): Recognised | undefined {
  const pgdata = s.env.PGDATA || '/var/lib/postgresql/data';
  const data = mountAt(s, pgdata) ?? s.mounts.find((m) => m.destination.startsWith('/var/lib/postgresql'));
  const init = bindAt(s, '/docker-entrypoint-initdb.d');
  const labelled = s.labels[POSTGRES_BACKUP_DIR_LABEL];
  const backup = labelled
    ? bindAt(s, labelled)
    : s.mounts
        .filter((m) => m.type === 'bind' && !m.readOnly && m.isDir !== false && m !== data && m !== init)
        .sort((a, b) => Number(/backup|dump/i.test(b.destination)) - Number(/backup|dump/i.test(a.destination)))[0];
  if (!backup || !init) {
    const missing = [!backup && 'a writable bind-mounted folder for dumps', !init && 'a bind-mounted /docker-entrypoint-initdb.d'].filter(Boolean).join(' and ');
    ctx.note(`Postgres (${s.image}) without ${missing}; its data is copied as files while it is stopped (add them for pg_dump backups)`);
    return undefined;
  }
  const user = ctx.ref('POSTGRES_USER', 'postgres', false);
  const password = ctx.ref('POSTGRES_PASSWORD', undefined, true);
  const found = Array.isArray(ctx.answer) ? (ctx.answer as string[]) : undefined;
  const defaultDb = s.env.POSTGRES_DB || userOf(s);
  const databases = (found && found.length > 0 ? found : [defaultDb]).map((d) =>
    d === s.env.POSTGRES_DB ? { env: ctx.setEnv('POSTGRES_DB', d, false) } : d,
  );
  if (password === undefined) ctx.note('POSTGRES_PASSWORD is not set in the container; set the password in the profile by hand');
  const config: Record<string, unknown> = {
    service: s.service,
    user,
    password: password ?? { env: ctx.setEnv('POSTGRES_PASSWORD', '', true) },
    databases,
    containerBackupDir: backup.destination,
    hostBackupDir: backup.source,
    initScriptsDir: init.source,
  };
  if (data?.type === 'bind') config.dataDir = data.source;
  return { config, claims: [data, init, backup], saves: `pg_dump of ${found?.length ? found.join(', ') : defaultDb} through ${backup.source}` };
}

export const postgresRecogniser: ServiceRecogniser = {
  name: 'postgres',
  title: 'Postgres',
  images: [/^(postgres|postgis|timescaledb|timescaledb-ha|pgvector)/, /postgres/],
  labels: ['postgres'],
  ask: { question: 'databases', run: askDatabases },
  plan: planPostgres,
};
