// The restore engine. It validates the whole archive (every member's
// sha256, the manifest, versions, space) before it changes a byte, then
// places every member with its component, loads the data services, and
// proves the result by recomputing the content fingerprint.
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { readArchiveMembers } from '../archive/archive-reader.ts';
import { writeFileAtomically } from '../archive/atomic-file.ts';
import { compareFingerprints, type Component, type Difference, type RestoreContext, type RestoreSituation, type RestoreTarget, type RestoreTask } from '../components/component.ts';
import { parseEnv, updateEnvText } from '../config/env-file.ts';
import type { Profile } from '../config/profile.ts';
import { loadStackConfig, resolveConfigDir, stackConfigFromEnv, type ConfigSource, type StackConfig } from '../config/stack-config.ts';
import { projectContainers } from '../docker/compose-services.ts';
import type { DockerClient } from '../docker/types.ts';
import { ArchiveError, DeclinedError, InterruptedError, MismatchError, PreflightError } from '../errors.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import { cleanUpAfterDeadRun, restorePipeDir } from './leftovers.ts';
import { acquireLock } from './lock.ts';
import { unfinishedRestore, unfinishedRestoreMarker } from './restore-marker.ts';
import { diskFullError, noSpaceWhile, saysNoSpace } from './no-space.ts';
import { MANIFEST_MEMBER, STACK_ENV_MEMBER } from './manifest.ts';
import { assertRelocated, relocateEnv, type Relocation } from './relocate.ts';
import { startStack, waitForServices, type StackStarter } from './stack-start.ts';
import { validateArchive } from './validate-archive.ts';
import { startWriters, stopWriters, writerContainers, type StoppedWriters } from './writers.ts';

export interface RestoreOptions {
  archive: string;
  dryRun: boolean;
  forceVersion: boolean;
  /** Restore as a separate copy (own project and folders) instead of as the archived stack: see relocate.ts. */
  relocate?: Relocation | undefined;
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

/** Reads the archived .env without unpacking anything else (it is member 1). */
async function archivedEnv(path: string): Promise<string> {
  for await (const member of readArchiveMembers(path)) {
    if (member.name === STACK_ENV_MEMBER) {
      const chunks: Buffer[] = [];
      for await (const chunk of member.stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    member.stream.resume();
    if (member.name !== MANIFEST_MEMBER) break;
  }
  throw new ArchiveError(`the archive has no ${STACK_ENV_MEMBER}`, { member: STACK_ENV_MEMBER });
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
    () => validateArchive(options.archive, deps.profile, deps.signal),
    (v) => `${v.members.length} members, checksums match`,
  );

  const { relocate } = options;
  const configDir = relocate?.configDir ?? resolveConfigDir(deps.profile, deps.source);
  const envText = await archivedEnv(options.archive);
  let envMap = parseEnv(envText, STACK_ENV_MEMBER);
  const relocation = relocate ? relocateEnv(deps.profile, envMap, relocate, resolveConfigDir(deps.profile, { environment: deps.source.environment, home: deps.source.home })) : {};
  envMap = { ...envMap, ...relocation };
  const archived = stackConfigFromEnv(deps.profile, configDir, envMap, deps.source.home);
  if (relocate) assertRelocated(archived, relocate);
  await docker.ping();
  // The profile's marker file (the .env by default) says the stack is installed here.
  const liveEnvExists = await access(join(configDir, deps.profile.marker)).then(() => true, () => false);
  let config: StackConfig = archived;
  let situation: RestoreSituation = 'fresh';
  const marker = unfinishedRestoreMarker(configDir);
  const unfinished = await unfinishedRestore(configDir);
  if (liveEnvExists) {
    if (relocate) throw new PreflightError(`${configDir}/${deps.profile.marker} exists; a relocated restore goes into an empty folder only`);
    config = await loadStackConfig(deps.profile, deps.source);
    situation = 'in-place';
  }
  const containers = await projectContainers(docker, config.project);
  // A restore that did not finish left its marker. A fresh-host one may also
  // have left the .env and containers it made; nothing there predates it, so
  // the rerun goes on as on a fresh host while none of the stack runs yet
  // (every member is placed again), else in place over the stack it started.
  const resuming = unfinished !== undefined && !relocate;
  if (resuming) {
    if (unfinished.startsWith('fresh') && liveEnvExists && !containers.some((c) => c.state === 'running')) {
      situation = 'fresh';
      config = archived;
    }
    reporter.warn(`resuming the restore that an earlier run did not finish (${unfinished}): ${situation === 'fresh' ? 'placing everything again as on a fresh host' : 'restoring in place over the running stack'}`);
  }
  if (situation === 'fresh' && containers.length > 0 && !resuming) {
    throw new PreflightError(`containers of project "${config.project}" exist but ${configDir}/${deps.profile.marker} does not`, {
      hint: `remove the containers (docker compose -p ${config.project} down) for a fresh-host restore, or restore the .env first`,
    });
  }
  if (situation === 'in-place' && containers.filter((c) => c.state === 'running').length === 0) {
    throw new PreflightError(`${configDir}/${deps.profile.marker} exists but no container of project "${config.project}" runs`, {
      hint: 'bring the stack up to restore in place, or move the config folder aside to restore as on a fresh host',
    });
  }

  const runId = `restore-${Date.now().toString(36)}`;
  const pipeDir = restorePipeDir(config);
  const tasks = new Map<string, RestoreTask>();
  const instances = new Map<string, Component>();
  for (const component of config.components) {
    const record = manifest.components[component.id];
    if (!record) continue;
    const ctx: RestoreContext = { config, docker, reporter, runId, signal: deps.signal, containers, situation, record, pipeDir, forceVersion: options.forceVersion };
    tasks.set(component.id, component.restore(ctx));
    instances.set(component.id, component);
  }
  const targetOf = (member: { name: string; component: string }) => instances.get(member.component)?.restoresInto(member.name);

  await reporter.step('pre-flight checks', async () => {
    if (situation === 'in-place' && (config.stackVersion ?? null) !== manifest.stackVersion) {
      const message = `the archive is of stack version ${manifest.stackVersion ?? 'unknown'} but the running stack is ${config.stackVersion ?? 'unknown'}`;
      if (!options.forceVersion) throw new PreflightError(message, { hint: 'run the version the backup was taken from (hossadm upgrade --to it), or add --force-version' });
      reporter.warn(`${message}; going on because of --force-version`);
    }
    if (situation === 'fresh' && !config.compose.upCommand) {
      if (config.compose.files.length === 0) {
        throw new PreflightError('the archived .env names no compose files (COMPOSE_FILE) and no HOSSADM_UP_COMMAND', {
          hint: 'restore onto a running stack, or add COMPOSE_FILE to the .env in the archive\'s place',
        });
      }
      for (const file of config.compose.files) {
        if (!(await access(file).then(() => true, () => false))) {
          throw new PreflightError(`compose file ${file} named in the archived .env is not on this host`, {
            hint: 'check out the stack\'s compose files at the same path first (or set HOSSADM_UP_COMMAND)',
          });
        }
      }
    }
    for (const task of tasks.values()) await task.preflight();
    const needed = manifest.members.filter((m) => targetOf(m) === 'backup-root').reduce((s, m) => s + m.size, 0);
    await mkdir(config.backupRoot, { recursive: true, mode: 0o700 });
    const stats = await statfs(config.backupRoot);
    if (stats.bavail * stats.bsize < needed + 64 * 1024 * 1024) {
      throw new PreflightError(`${config.backupRoot} has ${stats.bavail * stats.bsize} bytes free; the restore stages ${needed} bytes there`, { hint: 'free space there' });
    }
  });

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
    await mkdir(pipeDir, { recursive: true, mode: 0o700 });
    // Written before the first change and removed once everything is loaded:
    // it proves to a rerun that what it finds here was made by this restore.
    await mkdir(configDir, { recursive: true, mode: 0o700 });
    await writeFile(marker, `${situation} restore of ${options.archive}, pid ${process.pid}, started ${new Date().toISOString()}\n`, { mode: 0o600 });
    if (situation === 'in-place') {
      // Listed now: the clean-up above may have started writers a killed run had stopped.
      if (resuming) await waitForServices(docker, config, reporter);
      const writers = writerContainers(await projectContainers(docker, config.project), config.dataServices);
      stopped = await reporter.step(`stop writers (${writers.map((w) => w.service).join(', ') || 'none'})`, () => stopWriters(docker, writers, (s) => lock.recordStopped(s)));
    }
    changing = true;
    const expected = new Map(manifest.members.map((m) => [m.name, m]));
    for await (const member of readArchiveMembers(options.archive, { signal: deps.signal })) {
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
      for (const task of tasks.values()) await task.beforeStart?.();
      await reporter.step('start the stack', () => (deps.starter ?? startStack)(config));
      await waitForServices(docker, config, reporter);
    }
    for (const task of tasks.values()) {
      // A load runs in the service (pg_restore, a snapshot restore) and does not see the signal; none starts after it.
      deps.signal.throwIfAborted();
      await task.load?.();
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

  const differences: Difference[] = [];
  const warnings: Difference[] = [];
  await reporter.step('prove the restore against the manifest', async () => {
    for (const [id, task] of tasks) {
      const record = manifest.components[id]!;
      const found = compareFingerprints(id, record.fingerprint, await task.fingerprint());
      (record.live ? warnings : differences).push(...found);
    }
  }, () => (differences.length === 0 ? 'identical' : `${differences.length} differences`));
  for (const w of warnings) reporter.warn(`${w.component} ${w.key}: saved ${w.expected ?? 'absent'}, now ${w.actual ?? 'absent'} (copied live, so not an error)`);
  if (differences.length > 0) {
    throw new MismatchError(`restored content differs from the archive in ${differences.length} place(s)`, {
      details: differences.map((d) => `${d.component} ${d.key}: expected ${d.expected ?? 'absent'}, found ${d.actual ?? 'absent'}`).join('\n'),
    });
  }
  return { dryRun: false, situation, plan, archive: options.archive, differences, warnings, seconds: Math.round((Date.now() - startedAt) / 100) / 10 };
}
