// reset for the TheHive stack: the disaster a restore must recover from. The
// project's containers and network go, and so does everything in the stack
// folder (.env, config, Cassandra and Elasticsearch data, TheHive's files)
// and in BACKUP_ROOT (the snapshot repository .elasticsearch included),
// except BACKUP_ROOT/backups. Engine-owned files (uids 999, 1000) are removed
// from inside a helper running as root. Same safety rules as HOSS's reset.
import { placeholderContext, removeBindStack, resetStackFolder } from '../verbs/reset.ts';
import { checkTheHiveDir, contextFrom, loadTheHiveContext, THEHIVE_COMPOSE_FILES, theHiveComposeProject } from './context.ts';
import { renderTheHiveEnv } from './env-template.ts';

/** What a stack folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'thehive', 'cassandra', 'elasticsearch', 'backup']);

export async function resetTheHive(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'THEHIVE_DIR',
    hint: 'set THEHIVE_DIR or --dir to the stack folder (e.g. ~/thehive)',
    checkDir: checkTheHiveDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'thehive-reset-',
    load: loadTheHiveContext,
    // Without .env Compose still needs every variable to parse the files for `down`.
    placeholder: (dir, scratch) =>
      placeholderContext(
        scratch,
        'thehive',
        (project) => renderTheHiveEnv({ dir, project, composeFiles: THEHIVE_COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' }),
        (envPath, env) => contextFrom(dir, envPath, env, THEHIVE_COMPOSE_FILES),
      ),
    removeEverything: (ctx) => removeBindStack(ctx, theHiveComposeProject(ctx)),
  });
}
