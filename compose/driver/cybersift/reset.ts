// reset for the CyberSift stack: the disaster a restore must recover from.
// The project's containers and network go, and so does everything in the
// stack folder (.env, Elasticsearch and Redis data, models, flows) and in
// BACKUP_ROOT (the snapshot folder .elasticsearch included), except
// BACKUP_ROOT/backups. Same safety rules as the other stacks' reset.
import { placeholderContext, removeBindStack, resetStackFolder } from '../verbs/reset.ts';
import { checkCyberSiftDir, CYBERSIFT_COMPOSE_FILES, cyberSiftComposeProject, cyberSiftContextFrom, loadCyberSiftContext } from './context.ts';
import { renderCyberSiftEnv } from './env-template.ts';

/** What a stack folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'elasticsearch', 'redis', 'models', 'nifi', 'backup']);

export async function resetCyberSift(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'CYBERSIFT_DIR',
    hint: 'set CYBERSIFT_DIR or --dir to the stack folder (e.g. ~/cybersift)',
    checkDir: checkCyberSiftDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'cybersift-reset-',
    load: loadCyberSiftContext,
    // Without .env Compose still needs every variable to parse the files for `down`.
    placeholder: (dir, scratch) =>
      placeholderContext(
        scratch,
        'cybersift',
        (project) => renderCyberSiftEnv({ dir, project, composeFiles: CYBERSIFT_COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' }),
        (envPath, env) => cyberSiftContextFrom(dir, envPath, env, CYBERSIFT_COMPOSE_FILES),
      ),
    removeEverything: (ctx) => removeBindStack(ctx, cyberSiftComposeProject(ctx)),
  });
}
