// reset for the Wire stack: the disaster a restore must recover from. The
// project's containers and network go, and so does everything in the stack
// folder (.env, the installation folder, both Cassandra nodes' data, the
// object store's data) and in BACKUP_ROOT, except BACKUP_ROOT/backups.
// Same safety rules as the other stacks' reset.
import { placeholderContext, removeBindStack, resetStackFolder } from '../verbs/reset.ts';
import { checkWireDir, loadWireContext, WIRE_COMPOSE_FILES, wireComposeProject, wireContextFrom } from './context.ts';
import { renderWireEnv } from './setup.ts';

/** What a stack folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'wire-server', 'cassandra1', 'cassandra2', 'objectstore', 'backup']);

export async function resetWire(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'WIRE_DIR',
    hint: 'set WIRE_DIR or --dir to the stack folder (e.g. ~/wire)',
    checkDir: checkWireDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'wire-reset-',
    load: loadWireContext,
    // Without .env Compose still needs every variable to parse the files for `down`.
    placeholder: (dir, scratch) =>
      placeholderContext(
        scratch,
        'wire',
        (project) => renderWireEnv({ dir, project, composeFiles: WIRE_COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' }),
        (envPath, env) => wireContextFrom(dir, envPath, env, WIRE_COMPOSE_FILES),
      ),
    removeEverything: (ctx) => removeBindStack(ctx, wireComposeProject(ctx)),
  });
}
