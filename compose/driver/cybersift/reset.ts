// reset for the CyberSift stack: the disaster a restore must recover from.
// The project's containers and network go, and so does everything in the
// stack folder (.env, Elasticsearch and Redis data, models, flows) and in
// BACKUP_ROOT (the snapshot folder .elasticsearch included), except
// BACKUP_ROOT/backups. Same safety rules as the other stacks' reset.
import { existsSync } from 'node:fs';
import { readdir, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnv } from '../../../src/config/env-file.ts';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { projectContainers } from '../../../src/docker/compose-services.ts';
import { HELPER_LABEL } from '../../../src/docker/types.ts';
import { docker, say } from '../runtime.ts';
import { emptyFolderExcept, inside, resetStackFolder } from '../verbs/reset.ts';
import { checkCyberSiftDir, CYBERSIFT_COMPOSE_FILES, cyberSiftComposeProject, cyberSiftContextFrom, loadCyberSiftContext, type CyberSiftContext } from './context.ts';
import { renderCyberSiftEnv } from './env-template.ts';

/** What a stack folder holds; without .env, anything else there means it is not one. */
const KNOWN_ENTRIES = new Set(['.env', 'elasticsearch', 'redis', 'models', 'nifi', 'backup']);

async function placeholderContext(dir: string, scratch: string): Promise<CyberSiftContext> {
  const project = process.env.COMPOSE_PROJECT_NAME?.trim() || 'cybersift';
  const text = renderCyberSiftEnv({ dir, project, composeFiles: CYBERSIFT_COMPOSE_FILES, version: '0', uid: 0, gid: 0, secret: () => 'x' });
  const envPath = join(scratch, 'placeholder.env');
  await writeFile(envPath, text);
  return cyberSiftContextFrom(dir, envPath, parseEnv(text), CYBERSIFT_COMPOSE_FILES);
}

async function removeEverything(ctx: CyberSiftContext): Promise<void> {
  say(`removing containers and network of project ${ctx.project}`);
  const roots = [ctx.dir, ctx.backupRoot];
  for (const helper of await docker.listContainers({ labels: { [HELPER_LABEL]: true } })) {
    const info = await docker.inspectContainer(helper.id).catch(() => undefined);
    if ((info?.Mounts ?? []).some((m) => m.Type === 'bind' && roots.some((root) => inside(root, m.Source)))) await docker.removeContainer(helper.id).catch(() => undefined);
  }
  await runCompose(cyberSiftComposeProject(ctx), ['down', '--volumes', '--remove-orphans', '--timeout', '10']);
  for (const container of await projectContainers(docker, ctx.project)) await docker.removeContainer(container.id);
  const keep = join(ctx.backupRoot, 'backups');
  say(`removing data and config under ${ctx.dir}; keeping ${keep}`);
  if (!inside(ctx.dir, ctx.backupRoot)) await emptyFolderExcept(ctx.backupRoot, keep);
  await emptyFolderExcept(ctx.dir, inside(ctx.dir, keep) ? keep : undefined);
  if (existsSync(ctx.dir) && (await readdir(ctx.dir)).length === 0) await rmdir(ctx.dir);
}

export async function resetCyberSift(dir: string): Promise<void> {
  await resetStackFolder(dir, {
    variable: 'CYBERSIFT_DIR',
    hint: 'set CYBERSIFT_DIR or --dir to the stack folder (e.g. ~/cybersift)',
    checkDir: checkCyberSiftDir,
    knownEntries: KNOWN_ENTRIES,
    scratchPrefix: 'cybersift-reset-',
    load: loadCyberSiftContext,
    placeholder: placeholderContext,
    removeEverything,
  });
}
