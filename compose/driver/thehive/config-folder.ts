// The stack folder (~/thehive): .env, thehive/config/application.conf, and
// the bind sources, made before compose starts anything (a missing bind
// source would be created by the engine as a root-owned folder).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { makeOwnedFolders } from '../stack-folder.ts';
import { CASSANDRA_OWNER, ELASTICSEARCH_OWNER, THEHIVE_COMPOSE_DIR, THEHIVE_COMPOSE_FILES, THEHIVE_OWNER, type TheHiveContext } from './context.ts';
import { ensureStackEnv } from '../env-template.ts';
import { renderTheHiveEnv } from './env-template.ts';

export const APPLICATION_CONF_TEMPLATE = join(THEHIVE_COMPOSE_DIR, 'config', 'application.conf');

/** Writes .env with a fresh password unless it exists; true when it was written. */
export async function ensureTheHiveEnv(dir: string): Promise<boolean> {
  return ensureStackEnv(dir, {
    defaultProject: 'thehive',
    composeFiles: THEHIVE_COMPOSE_FILES,
    composeDir: THEHIVE_COMPOSE_DIR,
    render: (input) => renderTheHiveEnv({ dir, ...input }),
    holds: 'a new Cassandra password',
  });
}

/** application.conf from the template, naming .env's keyspace and index. */
export async function renderApplicationConf(ctx: TheHiveContext): Promise<string> {
  const template = await readFile(APPLICATION_CONF_TEMPLATE, 'utf8');
  // JanusGraph names the index <index-name>_global.
  const indexName = ctx.index.replace(/_global$/, '');
  return template.replaceAll('@KEYSPACE@', ctx.keyspace).replaceAll('@INDEX_NAME@', indexName);
}

/** Writes the config files; `overwrite` restores their seeded content, else an operator's edits stay. */
export async function writeTheHiveConfig(ctx: TheHiveContext, overwrite: boolean): Promise<void> {
  const target = join(ctx.config, 'application.conf');
  if (!overwrite && existsSync(target)) return;
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, await renderApplicationConf(ctx), { mode: 0o644 });
}

export async function prepareTheHiveFolders(ctx: TheHiveContext): Promise<void> {
  await writeTheHiveConfig(ctx, false);
  await makeOwnedFolders(
    'own thehive folders',
    [
      { owner: CASSANDRA_OWNER, folders: { cassandra: ctx.cassandraData } },
      { owner: ELASTICSEARCH_OWNER, folders: { elasticsearch: ctx.elasticsearchData, snapshots: ctx.snapshots } },
      { owner: THEHIVE_OWNER, folders: { files: ctx.files } },
    ],
    [join(ctx.backupRoot, 'backups')],
  );
}
