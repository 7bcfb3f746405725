// The restore engine, in its phases: validate the whole archive (every
// member's sha256, the manifest against the profile), find the situation
// (restore-situation.ts), run every pre-flight check (restore-checks.ts),
// plan and confirm, then change things: place every member with its
// instance, start a fresh stack, load the data services; finally prove the
// result by recomputing each instance's fingerprint (restore-proof.ts).
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { ensureDir } from 'fs-extra/esm';
import type { AgeIdentities } from '../archive/age/keys.ts';
import { readArchiveMembers } from '../archive/archive-reader.ts';
import { writeFileAtomically } from '../archive/atomic-file.ts';
import type { Component, Difference, RestoreContext, RestoreSituation, RestoreTarget, RestoreTask } from '../components/component.ts';
import { updateEnvText } from '../config/env-file.ts';
import type { Profile } from '../config/profile.ts';
import type { ConfigSource, StackConfig } from '../config/stack-config.ts';
import { projectContainers } from '../docker/compose-services.ts';
import type { DockerClient } from '../docker/types.ts';
import { ArchiveError, DeclinedError, InterruptedError } from '../errors.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import { cleanUpAfterDeadRun, restorePipeDir } from './leftovers.ts';
import { acquireLock } from './lock.ts';
import { unfinishedRestoreMarker } from './restore-marker.ts';
import { diskFullError, noSpaceWhile, saysNoSpace } from './no-space.ts';
import { MANIFEST_MEMBER, STACK_ENV_MEMBER } from './manifest.ts';
import type { Relocation } from './relocate.ts';
import { startStack, waitForServices, type StackStarter } from './stack-start.ts';
import { validateArchive } from './validate-archive.ts';
import { findSituation } from './restore-situation.ts';
import { preflightRestore } from './restore-checks.ts';
import { proveRestore } from './restore-proof.ts';
import { startWriters, stopWriters, writerContainers, type StoppedWriters } from './writers.ts';

export interface RestoreOptions {
  archive: string;
  dryRun: boolean;
  forceVersion: boolean;
  /** Restore as a separate copy (own project and folders) instead of as the archived stack: see relocate.ts. */
  relocate?: Relocation | undefined;
  /** Keys that open an archive encrypted with age. */
  identities?: AgeIdentities | undefined;
}

export interface RestoreDeps {
  profile: Profile;
  source: ConfigSource;
  docker: DockerClient;
  reporter: Reporter;
  prompter: Prompter;
  signal: AbortSignal;
  starter?: StackStarter;
}

export interface RestoreResult {
  dryRun: boolean;
  situation: RestoreSituation;
  plan: string[];
  archive: string;
  differences: Difference[];
  warnings: Difference[];
  seconds: number;
}

/** Re-checks each member's sha256 as it streams in the second pass: the file could have changed since the first. */
function checked(name: string, expected: string): Transform {
  const hash = createHash('sha256');
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = hash.digest('hex');
      callback(actual === expected ? null : new ArchiveError(`${name} changed while it was being restored (sha256 ${actual})`, { member: name }));
    },
  });
}

/** The hint for a full disk, by where the member being restored was written. */
function fullDiskHint(target: RestoreTarget | undefined, config: StackConfig): string {
  switch (target) {
    case 'backup-root':
      return ` in ${config.backupRoot} or point BACKUP_ROOT in ${config.envPath} at a larger disk`;
    case 'engine-storage':
      return ' where the Docker engine keeps its volumes ("docker info" names its root dir)';
    default:
      return '';
  }
}

export async function runRestore(deps: RestoreDeps, options: RestoreOptions): Promise<RestoreResult> {
  const { docker, reporter } = deps;
  const startedAt = Date.now();

  const { manifest } = await reporter.step(
    `verify ${options.archive}`,
    () => validateArchive(options.archive, deps.profile, deps.signal, options.identities),
    (v) => `${v.members.length} members, checksums match`,
  );

  const { relocate } = options;
  const { config, situation, resuming, resumedFresh, configDir, envText, relocation } = await findSituation(deps, options);
  const start = deps.starter ?? startStack;
  const marker = unfinishedRestoreMarker(configDir);
  const containers = await projectContainers(docker, config.project);
  const runId = `restore-${Date.now().toString(36)}`;
  const pipeDir = restorePipeDir(config);
  const tasks = new Map<string, RestoreTask>();
  // Instances the backup left out: only their preparation of a fresh host runs.
  const prepareOnly = new Map<string, RestoreTask>();
  const instances = new Map<string, Component>();
  const omitted = new Set(manifest.omitted ?? []);
  for (const component of config.components) {
    const record = manifest.components[component.id];
    if (!record) continue;
    const ctx: RestoreContext = { config, docker, reporter, runId, signal: deps.signal, containers, situation, record, pipeDir, forceVersion: options.forceVersion };
    (omitted.has(component.id) ? prepareOnly : tasks).set(component.id, component.restore(ctx));
    instances.set(component.id, component);
  }
  const targetOf = (member: { name: string; component: string }) => instances.get(member.component)?.restoresInto(member.name);

  await reporter.step('pre-flight checks', () => preflightRestore({ config, situation, manifest, tasks, targetOf, forceVersion: options.forceVersion, warn: (m) => reporter.warn(m) }));

  const plan: string[] = [`${situation === 'fresh' ? 'fresh host' : 'in place, over the running stack'}: project ${config.project}, config ${configDir}`];
  for (const task of tasks.values()) plan.push(...(await task.describe()));
  for (const id of manifest.omitted ?? []) plan.push(`${id}: not in this archive (left out at backup); the stack's own start-up must rebuild it`);
  if (situation === 'fresh') plan.push('then start the stack, wait for every service, load the data services');
  else plan.push(`the writing services are stopped during the restore and started again afterwards`);
  plan.push('finally prove the result against the manifest fingerprint');
  if (options.dryRun) return { dryRun: true, situation, plan, archive: options.archive, differences: [], warnings: [], seconds: 0 };

  if (situation === 'in-place') {
    for (const line of plan) reporter.info(`  ${line}`);
    const yes = await deps.prompter.confirm(`Replace the data of stack "${config.project}" with the backup from ${manifest.createdAt}?`, false);
    if (!yes) throw new DeclinedError('restore declined; nothing was changed');
  }

  const lock = await acquireLock(config.backupRoot, 'restore', (m) => reporter.warn(m), runId);
  let stopped: StoppedWriters | undefined;
  let changing = false;
  // Where the member being restored is written, to name a full disk.
  let writingTo: RestoreTarget | undefined;
  try {
    await cleanUpAfterDeadRun({ config, docker, lock, warn: (m) => reporter.warn(m) });
    await ensureDir(pipeDir, { mode: 0o700 });
    // Written before the first change and removed once everything is loaded:
    // it proves to a rerun that what it finds here was made by this restore.
    await ensureDir(configDir, { mode: 0o700 });
    await writeFile(marker, `${situation} restore of ${options.archive}, pid ${process.pid}, started ${new Date().toISOString()}\n`, { mode: 0o600 });
    if (situation === 'in-place') {
      // Listed now: the clean-up above may have started writers a killed run had stopped.
      if (resuming) await waitForServices(docker, config, reporter);
      const writers = writerContainers(await projectContainers(docker, config.project), config.dataServices);
      stopped = await reporter.step(`stop writers (${writers.map((w) => w.service).join(', ') || 'none'})`, () => stopWriters(docker, writers, (s) => lock.recordStopped(s)));
    }
    changing = true;
    const expected = new Map(manifest.members.map((m) => [m.name, m]));
    for await (const member of readArchiveMembers(options.archive, { signal: deps.signal, identities: options.identities })) {
      if (member.name === MANIFEST_MEMBER || member.name === STACK_ENV_MEMBER) {
        member.stream.resume();
        await new Promise((r) => member.stream.once('end', r));
        continue;
      }
      const entry = expected.get(member.name)!;
      const checker = checked(member.name, entry.sha256);
      member.stream.on('error', (error) => checker.destroy(error));
      const input = member.stream.pipe(checker);
      writingTo = targetOf(entry);
      await noSpaceWhile(`restoring ${member.name}`, () => tasks.get(entry.component)!.receive(member.name, input));
      writingTo = undefined;
    }
    if (situation === 'fresh') {
      // The archived .env is back in place by now; a relocated copy must start with its own names and folders.
      if (relocate) await writeFileAtomically(config.envPath, (h) => h.writeFile(updateEnvText(envText, relocation)), { overwrite: true, mode: 0o600 });
      for (const task of [...tasks.values(), ...prepareOnly.values()]) await task.beforeStart?.();
      // Only the data services first: an application started now would meet
      // empty databases (and, say, build an empty index from them).
      await reporter.step(`start the stack's data services (${config.dataServices.join(', ')})`, () => start(config, config.dataServices));
      await waitForServices(docker, config, reporter);
    }
    for (const task of tasks.values()) {
      // A load runs in the service (pg_restore, a snapshot restore) and does not see the signal; none starts after it.
      deps.signal.throwIfAborted();
      await task.load?.();
    }
    // Then the rest of the stack, also when this run resumed a fresh-host restore that had started only the data services.
    if (situation === 'fresh' || resumedFresh) {
      await reporter.step('start the rest of the stack', () => start(config));
      await waitForServices(docker, config, reporter);
    }
    await rm(marker, { force: true });
  } catch (error) {
    if (!deps.signal.aborted && saysNoSpace(error)) {
      // Dumps and snapshot repositories are staged in BACKUP_ROOT; a volume or a host folder is named by the activity.
      const staged = writingTo === 'backup-root';
      throw await diskFullError(error, {
        command: 'restore',
        folder: staged ? config.backupRoot : undefined,
        state: changing
          ? `the restore did not finish and the stack holds partly restored data${situation === 'in-place' ? '; the writing services are started again' : ''}`
          : 'nothing was changed',
        hint: `free space${fullDiskHint(writingTo, config)}, then run the same restore again`,
      });
    }
    if (!deps.signal.aborted) throw error;
    throw new InterruptedError(
      changing
        ? 'restore interrupted part-way: the stack holds partly restored data; run the same restore again to finish it'
        : 'restore interrupted before anything was changed',
      { details: (error as Error).message },
    );
  } finally {
    if (stopped) {
      const toStart = stopped;
      await reporter.step('start writers', () => startWriters(docker, toStart, (s) => lock.recordStopped(s))).catch((e) => reporter.warn(`could not start writers: ${(e as Error).message}`));
      await waitForServices(docker, config, reporter).catch((e) => reporter.warn((e as Error).message));
    }
    await docker.removeHelpers({ runId }).catch(() => undefined);
    await lock.release();
  }

  const { differences, warnings } = await proveRestore(manifest, tasks, reporter);
  return { dryRun: false, situation, plan, archive: options.archive, differences, warnings, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
}
