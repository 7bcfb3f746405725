// The backup engine: plan, check, act, verify. It runs the profile's
// component instances in their order through three phases and keeps the writing services
// stopped only during the freeze phase. Everything it touches comes in as a
// parameter, so tests can drive it with fakes and the CLI stays thin.
import { readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ensureDir, pathExists } from 'fs-extra/esm';
import { writeArchive } from '../archive/archive-writer.ts';
import { PARTIAL_SUFFIX, publishFile } from '../archive/atomic-file.ts';
import type { AgeRecipients } from '../archive/age/keys.ts';
import { checkFileKept } from '../archive/file-sha256.ts';
import type { Codec } from '../archive/codec.ts';
import type { BackupContext, BackupFacts, BackupTask, Component, ComponentRecord, ConsistencyMode, FreezeMode } from '../components/component.ts';
import type { StackConfig } from '../config/stack-config.ts';
import { projectContainers } from '../docker/compose-services.ts';
import type { DockerClient } from '../docker/types.ts';
import { InterruptedError, PreflightError, StackError, UsageError } from '../errors.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import { cleanUpAfterDeadRun } from './leftovers.ts';
import { acquireLock } from './lock.ts';
import { diskFullError, noSpaceWhile, saysNoSpace } from './no-space.ts';
import { archiveStamp, FORMAT_VERSION, type Manifest, STACK_ENV_MEMBER } from './manifest.ts';
import { unfinishedRestore, unfinishedRestoreMarker } from './restore-marker.ts';
import { Staging } from './staging.ts';
import { describeFreeze, type FreezeResult, planFreeze, runFreeze, writerMounts } from './freeze-windows.ts';
import { startWriters, writerContainers, type StoppedWriters } from './writers.ts';

export interface BackupOptions {
  mode: ConsistencyMode;
  /** Cold only: how the writers stop (default: the profile's `freeze`, else per service). */
  freeze?: FreezeMode;
  codec: Codec;
  dryRun: boolean;
  /** Instance ids to leave out of this archive (e.g. an index the application rebuilds). */
  without?: readonly string[];
  /** Encrypt the archive with age to these recipients; it is then named …tar.zst.age. */
  encryptTo?: AgeRecipients | undefined;
}

export interface BackupDeps {
  config: StackConfig;
  docker: DockerClient;
  reporter: Reporter;
  prompter: Prompter;
  signal: AbortSignal;
  toolVersion: string;
  now?: () => Date;
}

export interface BackupResult {
  dryRun: boolean;
  plan: string[];
  archive?: string;
  bytes?: number;
  members?: { name: string; size: number; sha256: string }[];
  consistency?: Manifest['consistency'];
  seconds?: number;
}

const EXTENSION: Record<Codec, string> = { zstd: '.tar.zst', gzip: '.tar.gz', none: '.tar' };

export const ENCRYPTED_EXTENSION = '.age';

export function archiveName(prefix: string, now: Date, codec: Codec, encrypted = false): string {
  return `${prefix}-${archiveStamp(now)}${EXTENSION[codec]}${encrypted ? ENCRYPTED_EXTENSION : ''}`;
}

/** The instances this backup saves: the profile's, less those --without names. */
export function backupComponents(config: StackConfig, without: readonly string[] = []): Component[] {
  for (const id of without) {
    if (!config.components.some((c) => c.id === id)) {
      throw new UsageError(`--without ${id}: the ${config.profile.name} profile has no component "${id}"`, { hint: `its components are ${config.components.map((c) => c.id).join(', ')}` });
    }
  }
  return config.components.filter((c) => !without.includes(c.id));
}

/** The freeze mode a cold backup runs with. */
export function freezeMode(config: StackConfig, options: BackupOptions): FreezeMode {
  return options.freeze ?? config.profile.freeze ?? 'per-service';
}

/**
 * The plan is pure: what --dry-run prints and what the run then does.
 * `windows`: the freeze steps as found on the running stack (per service), when known.
 */
export function planBackup(config: StackConfig, options: BackupOptions, components: readonly Component[], windows?: readonly string[]): string[] {
  const writers = `all but ${config.dataServices.join(', ')}`;
  const window = options.mode === 'hot'
    ? ['hot: keep every service running; volumes are copied live and the manifest says so']
    : freezeMode(config, options) === 'stack'
      ? [`freeze per stack: stop the writing services (${writers}) for the freeze phase only, then start them again`]
      : [
          `freeze per service: stop each writing service (${writers}) only while data it mounts (a volume, a data folder) is copied, then start it again; dumps and snapshots are taken with the writers running (--freeze stack: one window for all)`,
          ...(windows ?? ['the windows follow from the running containers\' mounts']).map((line) => `  ${line}`),
        ];
  return [
    `stack ${config.project} (profile ${config.profile.name}, version ${config.stackVersion ?? 'unknown'}), config ${config.configDir}`,
    `pre-flight: engine, containers, versions, snapshot repository, free space, lock on ${config.backupRoot}`,
    ...components.flatMap((c) => c.planBackup(config).map((line) => `${c.id}: ${line}`)),
    ...window,
    ...(options.without?.length ? [`left out on purpose: ${options.without.join(', ')} (the manifest says so)`] : []),
    `stage in ${config.stagingDir}, then write ${join(config.backupsDir, `${config.profile.archivePrefix}-<UTC>${EXTENSION[options.codec]}${options.encryptTo ? ENCRYPTED_EXTENSION : ''}`)} (${options.codec}, mode 0600) atomically`,
    ...(options.encryptTo
      ? [
          `encrypt it with age to the ${options.encryptTo.keys.length} recipient(s) in ${options.encryptTo.file}; the plaintext is checked while it is written, the ciphertext re-read and compared`,
        ]
      : []),
  ];
}

/** For --dry-run: the freeze steps the running stack would get (read-only calls to the engine). */
async function windowsOnStack(deps: BackupDeps, options: BackupOptions, components: readonly Component[]): Promise<string[]> {
  const { config, docker } = deps;
  const containers = await projectContainers(docker, config.project);
  const writers = writerContainers(containers, config.dataServices);
  const runId = archiveStamp((deps.now ?? (() => new Date()))()).toLowerCase();
  const ctx: BackupContext = { config, docker, reporter: deps.reporter, runId, signal: deps.signal, containers, staging: new Staging(config.stagingDir, options.codec, deps.signal), mode: options.mode };
  const steps = await planFreeze(components.map((c) => c.backup(ctx)), components.map((c) => c.id), writers, await writerMounts(docker, writers), 'per-service');
  return describeFreeze(steps);
}

async function freeBytes(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

export async function runBackup(deps: BackupDeps, options: BackupOptions): Promise<BackupResult> {
  const { config, docker, reporter } = deps;
  const components = backupComponents(config, options.without);
  const now = deps.now ?? (() => new Date());
  const freeze = options.mode === 'hot' ? 'hot' : freezeMode(config, options);
  if (options.dryRun) {
    const windows = freeze === 'per-service' ? await windowsOnStack(deps, options, components).catch(() => undefined) : undefined;
    return { dryRun: true, plan: planBackup(config, options, components, windows) };
  }
  const plan = planBackup(config, options, components);

  const startedAt = Date.now();
  // A stack that a restore left half-done is neither the old state nor the
  // archived one: saving it would put a broken backup at the top of the list.
  const unfinished = await unfinishedRestore(config.configDir);
  if (unfinished !== undefined) {
    throw new PreflightError(`a restore of this stack did not finish (${unfinished}), so the stack holds partly restored data`, {
      hint: `run that restore again to finish it, or delete ${unfinishedRestoreMarker(config.configDir)} to back up the stack as it is`,
    });
  }
  const engine = await reporter.step('docker engine', () => docker.ping(), (v) => `version ${v.version}`);
  const containers = await projectContainers(docker, config.project);
  if (containers.length === 0) {
    throw new StackError(`no containers of compose project "${config.project}" exist`, {
      hint: `bring the stack up, or set COMPOSE_PROJECT_NAME in ${config.envPath} to its project name`,
    });
  }
  await ensureDir(config.backupsDir, { mode: 0o700 });
  const runId = archiveStamp(now()).toLowerCase();
  const lock = await acquireLock(config.backupRoot, 'backup', (m) => reporter.warn(m), runId);
  const staging = new Staging(config.stagingDir, options.codec, deps.signal);
  const ctx: BackupContext = { config, docker, reporter, runId, signal: deps.signal, containers, staging, mode: options.mode };
  const tasks: BackupTask[] = [];
  const held: { stopped?: StoppedWriters | undefined } = {};
  let frozen: FreezeResult = { stopped: [], windows: [], windowSeconds: 0 };
  // Written but not yet read back: removed if the run fails or is interrupted before the check passes.
  let unverified: string | undefined;
  try {
    // A killed run's stopped writers are started first, so this run stops and starts them as usual.
    if (await cleanUpAfterDeadRun({ config, docker, lock, warn: (m) => reporter.warn(m) })) ctx.containers = await projectContainers(docker, config.project);
    const swept = await docker.removeHelpers();
    if (swept > 0) reporter.warn(`removed ${swept} helper container(s) left by an interrupted run`);
    if (await pathExists(config.stagingDir)) {
      const replace = await deps.prompter.confirm(`${config.stagingDir} holds a partial backup. Delete partial backup and create new?`, true);
      if (!replace) throw new PreflightError(`a partial backup is in ${config.stagingDir}`, { hint: 'move it away or answer yes' });
      await staging.remove();
      reporter.warn(`deleted the partial backup an interrupted run left in ${config.stagingDir}`);
    }

    const facts: BackupFacts[] = [];
    // Made before the pre-flight, which already registers the snapshot
    // repository: a failure or Ctrl-C from here on undoes it through abort.
    for (const component of components) tasks.push(component.backup(ctx));
    await reporter.step('pre-flight checks', async () => {
      for (const component of components) facts.push(await component.preflightBackup(ctx));
    });
    const estimated = facts.reduce((sum, f) => sum + f.estimatedBytes, 0);
    const free = await freeBytes(config.backupRoot);
    // Staged members plus the final archive, both at most the raw size.
    const needed = 2 * estimated + 64 * 1024 * 1024;
    if (free < needed) {
      throw new PreflightError(`${config.backupRoot} has ${free} bytes free; this backup may need up to ${needed}`, {
        hint: 'free space there or point BACKUP_ROOT at a larger disk',
      });
    }

    await staging.create();
    await staging.add('stack', STACK_ENV_MEMBER, Readable.from([await readFile(config.envPath)]));
    for (const task of tasks) await task.prepare?.();

    const writers = options.mode === 'cold' ? writerContainers(ctx.containers, config.dataServices) : [];
    const mounts = freeze === 'per-service' ? await writerMounts(docker, writers) : new Map();
    const steps = await planFreeze(tasks, components.map((c) => c.id), writers, mounts, freeze);
    const freezeStart = Date.now();
    frozen = await runFreeze(steps, { docker, step: (label, work, done) => reporter.step(label, work, done), note: (s) => lock.recordStopped(s), held });
    // A hot run stops nothing; its "window" is the freeze phase.
    if (freeze === 'hot') frozen.windowSeconds = Math.round((Date.now() - freezeStart) / 100) / 10;

    const records: Record<string, ComponentRecord> = {};
    for (const [index, task] of tasks.entries()) {
      const component = components[index]!;
      records[component.id] = { kind: component.kind, versions: facts[index]!.versions, ...(await task.finish()) };
    }

    for (const component of config.components.filter((c) => options.without?.includes(c.id))) {
      const details = await component.omitted?.(ctx);
      if (details) records[component.id] = { kind: component.kind, versions: {}, details, fingerprint: {}, live: false };
    }

    const createdAt = now();
    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION,
      tool: { name: 'hossadm', version: deps.toolVersion },
      profile: config.profile.name,
      createdAt: createdAt.toISOString(),
      project: config.project,
      stackVersion: config.stackVersion ?? null,
      codec: options.codec,
      consistency: {
        mode: options.mode,
        stopped: frozen.stopped,
        windowSeconds: frozen.windowSeconds,
        ...(freeze === 'hot' ? {} : { freeze, windows: frozen.windows }),
      },
      engines: { docker: engine.version },
      components: records,
      ...(options.without?.length ? { omitted: [...options.without] } : {}),
      members: staging.members.map((m) => ({ name: m.name, component: m.component, size: m.size, sha256: m.sha256 })),
    };
    const finalPath = join(config.backupsDir, archiveName(config.profile.archivePrefix, createdAt, options.codec, options.encryptTo !== undefined));
    // Written and read back under its .partial name: an archive gets its
    // final name only once it has been read back whole, so a run killed at
    // any moment leaves no unchecked file that list, prune or check would
    // count as a backup.
    const readBackPath = finalPath + PARTIAL_SUFFIX;
    if (await pathExists(finalPath)) {
      throw new PreflightError(`${finalPath} already exists`, { hint: 'archive names carry the time to the second; wait a second and retry' });
    }
    const written = await reporter.step('write archive', () =>
      noSpaceWhile(`writing the archive ${finalPath}`, () =>
        writeArchive({ finalPath: readBackPath, codec: options.codec, manifest, members: staging.members, mtime: createdAt, signal: deps.signal, overwrite: true, encryptTo: options.encryptTo })),
      (w) => `${finalPath} (${w.bytes} bytes)`,
    );
    unverified = readBackPath;
    // Read the archive back before the staged copies go: a backup that
    // cannot be read is found now, not on the day it is needed. Each staged
    // member was decoded and hashed again while the next one was produced;
    // what remains is to prove that the disk kept the archive byte for byte.
    const { sealed } = written;
    await reporter.step(
      'verify archive',
      async () => {
        const readBack = await staging.readBack();
        await checkFileKept(readBackPath, written.sha256, deps.signal);
        return readBack;
      },
      (readBack) =>
        sealed
          ? // This host holds no key that reads the archive: its plaintext was checked as it was written.
            `${sealed.verified.members.length} members checked while encrypted, checksums match; ciphertext re-read, sha256 matches`
          : `${readBack} members, checksums match (each read back once staged); archive re-read, sha256 matches`,
    );
    await publishFile(readBackPath, finalPath);
    unverified = undefined;
    await staging.remove();
    return {
      dryRun: false,
      plan,
      archive: finalPath,
      bytes: written.bytes,
      members: manifest.members.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
      consistency: manifest.consistency,
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
  } catch (error) {
    for (const task of [...tasks].reverse()) await task.abort?.().catch(() => undefined);
    if (held.stopped) await startWriters(docker, held.stopped, (s) => lock.recordStopped(s)).catch((e) => reporter.warn(`could not start writers again: ${(e as Error).message}`));
    await docker.removeHelpers({ runId }).catch(() => undefined);
    if (unverified) await rm(unverified, { force: true }).catch(() => reporter.warn(`unverified archive left at ${unverified}`));
    const stagingLeft = await staging.remove().then(() => false, () => true);
    if (stagingLeft) reporter.warn(`partial staging left in ${config.stagingDir}`);
    if (!deps.signal.aborted && saysNoSpace(error)) {
      throw await diskFullError(error, {
        command: 'backup',
        folder: config.backupRoot,
        state: `no archive was written and ${stagingLeft ? `partial staging is left in ${config.stagingDir}` : 'staging was removed'}${options.mode === 'cold' ? '; the writing services run again' : ''}`,
        hint: `free space in ${config.backupRoot} or point BACKUP_ROOT in ${config.envPath} at a larger disk, then run the backup again`,
      });
    }
    if (deps.signal.aborted) {
      throw new InterruptedError('backup interrupted: no archive was written, staging was removed and stopped services run again', {
        details: (error as Error).message,
      });
    }
    throw error;
  } finally {
    await lock.release();
  }
}
