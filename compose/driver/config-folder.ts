// The config folder of a real deployment (~/.hoss): .env, traefik.yaml and
// the core/, auth/, sync/, opensearch/, ui/ folders, plus the data and
// backup folders the compose file binds. Existing files are never
// overwritten here, as an operator may have edited them.
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { COMPOSE_FILES, SERVER_DIR, type StackContext } from './context.ts';
import { ensureStackEnv, renderEnv } from './env-template.ts';
import { makeOwnedFolders } from './stack-folder.ts';

export const CONFIG_TEMPLATES = join(SERVER_DIR, 'config');
export const INIT_SCRIPTS = join(SERVER_DIR, 'db', 'initdb.d');

/** The uid:gid the search engine runs as; it must own its data and snapshot folders. */
const OPENSEARCH_OWNER = '1000:1000';

async function filesBelow(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) out.push(...(await filesBelow(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Writes .env with fresh secrets unless it exists; true when it was written. */
export async function ensureEnvFile(hossDir: string): Promise<boolean> {
  return ensureStackEnv(hossDir, {
    defaultProject: 'server',
    composeFiles: COMPOSE_FILES,
    composeDir: SERVER_DIR,
    render: (input) => renderEnv({ hossDir, ...input }),
    holds: 'new secrets',
  });
}

/** Copies the config templates into HOSS_DIR; `overwrite` restores their seeded content. */
export async function writeConfigFiles(hossDir: string, overwrite: boolean): Promise<void> {
  for (const source of await filesBelow(CONFIG_TEMPLATES)) {
    const target = join(hossDir, relative(CONFIG_TEMPLATES, source));
    if (!overwrite && existsSync(target)) continue;
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
  }
}

/**
 * Config, init scripts and the bind-mounted folders, before compose starts
 * anything: a bind source that does not exist is created by the engine as
 * a root-owned folder, which is wrong for files and for non-root services.
 */
export async function prepareFolders(ctx: StackContext): Promise<void> {
  await writeConfigFiles(ctx.hossDir, false);
  const initDir = ctx.env.DB_INIT_SCRIPTS!;
  await mkdir(initDir, { recursive: true });
  for (const script of await filesBelow(INIT_SCRIPTS)) {
    const target = join(initDir, relative(INIT_SCRIPTS, script));
    await copyFile(script, target);
  }
  // The host user may not be 1000 (here it is root): hand the two folders
  // to the engine's user from inside a helper, as `make patch` did with sudo.
  await makeOwnedFolders(
    'own opensearch folders',
    [{ owner: OPENSEARCH_OWNER, folders: { 'search-data': join(ctx.hossDir, 'data', 'opensearch'), snapshots: join(ctx.backupRoot, '.opensearch') } }],
    [ctx.env.DB_ROOT!, join(ctx.backupRoot, 'backups'), join(ctx.backupRoot, '.db')],
  );
}
