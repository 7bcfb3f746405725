// reset for the TheHive stack: the disaster a restore must recover from. The
// project's containers and network go, and so does everything in the stack
// folder (.env, config, Cassandra and Elasticsearch data, TheHive's files)
// and in BACKUP_ROOT (the snapshot repository .elasticsearch included),
// except BACKUP_ROOT/backups. Engine-owned files (uids 999, 1000) are removed
// from inside a helper running as root. Same safety rules as HOSS's reset.
import { existsSync } from 'node:fs';
import { readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from '../../../src/config/env-file.ts';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { projectContainers } from '../../../src/docker/compose-services.ts';
import { HELPER_LABEL } from '../../../src/docker/types.ts';
import { docker, say } from '../runtime.ts';
import { emptyFolderExcept, inside, resetStackFolder } from '../verbs/reset.ts';
import { checkTheHiveDir, contextFrom, loadTheHiveContext, THEHIVE_COMPOSE_FILES, theHiveComposeProject, type TheHiveContext } from './context.ts';
import { renderTheHiveEnv } from './env-template.ts';

/** What a stack folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'thehive', 'cassandra', 'elasticsearch', 'backup']);

/** Without .env Compose still needs every variable to parse the files for `down`. */
async function placeholderContext(dir: string, scratch: string): Promise<TheHiveContext> {
  const project = process.env.COMPOSE_PROJECT_NAME?.trim() || 'thehive';
  const text = renderTheHiveEnv({ dir, project, composeFiles: THEHIVE_COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' });
  const envPath = join(scratch, 'placeholder.env');
  await writeFile(envPath, text);
  return contextFrom(dir, envPath, parseEnv(text), THEHIVE_COMPOSE_FILES);
}

/** Helpers left by an interrupted run that mount this stack's folders (others' may be running). */
async function removeHelpersOf(ctx: TheHiveContext): Promise<void> {
  const roots = [ctx.dir, ctx.backupRoot];
  for (const helper of await docker.listContainers({ labels: { [HELPER_LABEL]: true } })) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    if ((info?.Mounts ?? []).some((m) => m.Type === 'bind' && roots.some((root) => inside(root, m.Source)))) {
      await docker.removeContainer(helper.id).catch(() => undefined);
    }
  }
}

async function removeEverything(ctx: TheHiveContext): Promise<void> {
  say(`removing containers and network of project ${ctx.project}`);
  await removeHelpersOf(ctx);
  await runCompose(theHiveComposeProject(ctx), ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  for (const container of await projectContainers(docker, ctx.project)) await docker.removeContainer(container.id);
  const keep = join(ctx.backupRoot, 'backups');
  say(`removing data and config under ${ctx.dir}; keeping ${keep}`);
  if (!inside(ctx.dir, ctx.backupRoot)) await emptyFolderExcept(ctx.backupRoot, keep);
  await emptyFolderExcept(ctx.dir, inside(ctx.dir, keep) ? keep : undefined);
  if (existsSync(ctx.dir) && (await readdir(ctx.dir)).length === 0) await rmdir(ctx.dir);
}

export async function resetTheHive(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'THEHIVE_DIR',
    hint: 'set THEHIVE_DIR or --dir to the stack folder (e.g. ~/thehive)',
    checkDir: checkTheHiveDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'thehive-reset-',
    load: loadTheHiveContext,
    placeholder: placeholderContext,
    removeEverything,
  });
}
