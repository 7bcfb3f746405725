// `verify --restore-test`: the archive restored as on a fresh host, but as a
// throwaway copy beside the live stack — its own compose project (so its own
// containers, network and volumes) and its own config folder and BACKUP_ROOT
// inside a scratch folder — then proven against the manifest fingerprint by
// the restore itself, and torn down whatever happened.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AgeIdentities } from '../archive/age/keys.ts';
import type { Profile } from '../config/profile.ts';
import { runCompose } from '../docker/compose-cli.ts';
import { removeProject } from '../docker/project-teardown.ts';
import { removeTree } from '../docker/tree-helper.ts';
import type { DockerClient } from '../docker/types.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import type { Relocation } from './relocate.ts';
import { runRestore, type RestoreResult } from './restore.ts';
import type { StackStarter } from './stack-start.ts';

export interface RestoreTestDeps {
  profile: Profile;
  /** The process environment; the copy's compose run gets its own .env values over it. */
  environment: Record<string, string | undefined>;
  docker: DockerClient;
  reporter: Reporter;
  prompter: Prompter;
  signal: AbortSignal;
  /** Where the scratch folder is made (it holds a full restored copy for a while). */
  workRoot: string;
  /** Busybox image for removing files the copy's services own. */
  helperImage: string;
}

export interface RestoreTestResult {
  project: string;
  seconds: number;
  /** Values copied live in a --hot backup that differ (not failures). */
  warnings: RestoreResult['warnings'];
}

export async function runRestoreTest(deps: RestoreTestDeps, archive: string, identities?: AgeIdentities): Promise<RestoreTestResult> {
  const { docker, reporter } = deps;
  const id = randomBytes(4).toString('hex');
  const root = join(deps.workRoot, `restore-test-${id}`);
  const to: Relocation = { project: `hossadm-verify-${id}`, configDir: join(root, 'config'), backupRoot: join(root, 'backup'), root };
  // Compose prefers the process environment over the env file: the copy's own
  // .env values go over it, so an exported DB_ROOT cannot point the copy at live data.
  const starter: StackStarter = (config, services = []) =>
    runCompose(
      { project: config.project, files: config.compose.files, envFile: config.envPath, env: { ...deps.environment, ...config.env, [deps.profile.configDirVariable]: config.configDir } },
      ['up', '-d', ...services],
      { echo: () => undefined, signal: deps.signal },
    ).then(() => undefined);

  await mkdir(root, { recursive: true, mode: 0o700 });
  reporter.info(`restore test: project ${to.project} in ${root}`);
  try {
    const result = await runRestore(
      { profile: deps.profile, source: { configDir: to.configDir, environment: deps.environment }, docker, reporter, prompter: deps.prompter, signal: deps.signal, starter },
      { archive, dryRun: false, forceVersion: false, relocate: to, identities },
    );
    return { project: to.project, seconds: result.seconds, warnings: result.warnings };
  } finally {
    await tearDown(deps, to).catch((error) => reporter.warn(`the restore test's copy was not removed completely: ${(error as Error).message} (remove project ${to.project} and ${root} by hand)`));
  }
}

/** Runs after success, failure and Ctrl-C alike, so it does not listen to the run's abort signal. */
async function tearDown(deps: RestoreTestDeps, to: Relocation): Promise<void> {
  await deps.reporter.step(`remove the restore test's copy (${to.project})`, async () => {
    const removed = await removeProject(deps.docker, to.project);
    // The copy's services wrote files as their own uids: a root helper removes them.
    await removeTree(
      { docker: deps.docker, image: deps.helperImage, runId: `${to.project}-cleanup`, purpose: 'remove restore test folder', mounts: [{ source: dirname(to.root), target: '/work' }] },
      `/work/${basename(to.root)}`,
    );
    await rm(to.root, { recursive: true, force: true });
    return removed;
  }, (r) => `${r.containers} containers, ${r.networks} networks, ${r.volumes} volumes and the folder`);
}
