// reset for the Wire stack: the disaster a restore must recover from. The
// project's containers and network go, and so does everything in the stack
// folder (.env, the installation folder, both Cassandra nodes' data, the
// object store's data) and in BACKUP_ROOT, except BACKUP_ROOT/backups.
// Engine-owned files are removed from inside a helper running as root; the
// safety rules (never / or ~, never a folder that is not a stack's) are
// resetStackFolder's.
import { existsSync } from 'node:fs';
import { readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from '../../../src/config/env-file.ts';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { projectContainers } from '../../../src/docker/compose-services.ts';
import { HELPER_LABEL } from '../../../src/docker/types.ts';
import { docker, say } from '../runtime.ts';
import { emptyFolderExcept, inside, resetStackFolder } from '../verbs/reset.ts';
import { checkWireDir, loadWireContext, WIRE_COMPOSE_FILES, wireComposeProject, wireContextFrom, type WireContext } from './context.ts';
import { renderWireEnv } from './setup.ts';

const KNOWN_ENTRIES = new Set(['.env', 'wire-server', 'cassandra1', 'cassandra2', 'objectstore', 'backup']);

/** Without .env Compose still needs every variable to parse the files for `down`. */
async function placeholder(dir: string, scratch: string): Promise<WireContext> {
  const text = renderWireEnv({ dir, project: process.env.COMPOSE_PROJECT_NAME?.trim() || 'wire', version: '0', secret: () => 'x' });
  await writeFile(join(scratch, 'placeholder.env'), text);
  return wireContextFrom(dir, join(scratch, 'placeholder.env'), parseEnv(text), WIRE_COMPOSE_FILES);
}

async function removeEverything(ctx: WireContext): Promise<void> {
  say(`removing containers and network of project ${ctx.project}`);
  for (const helper of await docker.listContainers({ labels: { [HELPER_LABEL]: true } })) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    if ((info?.Mounts ?? []).some((m) => m.Type === 'bind' && [ctx.dir, ctx.backupRoot].some((root) => inside(root, m.Source)))) await docker.removeContainer(helper.id).catch(() => undefined);
  }
  await runCompose(wireComposeProject(ctx), ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  for (const container of await projectContainers(docker, ctx.project)) await docker.removeContainer(container.id);
  const keep = join(ctx.backupRoot, 'backups');
  say(`removing data and config under ${ctx.dir}; keeping ${keep}`);
  if (!inside(ctx.dir, ctx.backupRoot)) await emptyFolderExcept(ctx.backupRoot, keep);
  await emptyFolderExcept(ctx.dir, inside(ctx.dir, keep) ? keep : undefined);
  if (existsSync(ctx.dir) && (await readdir(ctx.dir)).length === 0) await rmdir(ctx.dir);
}

export async function resetWire(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'WIRE_DIR',
    hint: 'set WIRE_DIR or --dir to the stack folder (e.g. ~/wire)',
    checkDir: checkWireDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'wire-reset-',
    load: loadWireContext,
    placeholder,
    removeEverything,
  });
}
