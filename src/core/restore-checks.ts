// The restore's pre-flight: everything that must hold before the first
// change (stack version, compose files for a fresh start, each instance's
// own checks, free space in BACKUP_ROOT for what is staged there).
import { statfs } from 'node:fs/promises';
import { ensureDir, pathExists } from 'fs-extra/esm';
import type { RestoreSituation, RestoreTarget, RestoreTask } from '../components/component.ts';
import type { StackConfig } from '../config/stack-config.ts';
import { PreflightError } from '../errors.ts';
import type { Manifest, ManifestMember } from './manifest.ts';

export interface RestorePreflight {
  config: StackConfig;
  situation: RestoreSituation;
  manifest: Manifest;
  tasks: ReadonlyMap<string, RestoreTask>;
  targetOf: (member: ManifestMember) => RestoreTarget | undefined;
  forceVersion: boolean;
  warn: (message: string) => void;
}

export async function preflightRestore(input: RestorePreflight): Promise<void> {
  const { config, situation, manifest, tasks, targetOf } = input;
  if (situation === 'in-place' && (config.stackVersion ?? null) !== manifest.stackVersion) {
    const message = `the archive is of stack version ${manifest.stackVersion ?? 'unknown'} but the running stack is ${config.stackVersion ?? 'unknown'}`;
    if (!input.forceVersion) throw new PreflightError(message, { hint: 'run the version the backup was taken from (hossadm upgrade --to it), or add --force-version' });
    input.warn(`${message}; going on because of --force-version`);
  }
  if (situation === 'fresh' && !config.compose.upCommand) {
    if (config.compose.files.length === 0) {
      throw new PreflightError('the archived .env names no compose files (COMPOSE_FILE) and no HOSSADM_UP_COMMAND', {
        hint: 'restore onto a running stack, or add COMPOSE_FILE to the .env in the archive\'s place',
      });
    }
    for (const file of config.compose.files) {
      if (!(await pathExists(file))) {
        throw new PreflightError(`compose file ${file} named in the archived .env is not on this host`, {
          hint: 'check out the stack\'s compose files at the same path first (or set HOSSADM_UP_COMMAND)',
        });
      }
    }
  }
  for (const task of tasks.values()) await task.preflight();
  const needed = manifest.members.filter((m) => targetOf(m) === 'backup-root').reduce((s, m) => s + m.size, 0);
  await ensureDir(config.backupRoot, { mode: 0o700 });
  const stats = await statfs(config.backupRoot);
  if (stats.bavail * stats.bsize < needed + 64 * 1024 * 1024) {
    throw new PreflightError(`${config.backupRoot} has ${stats.bavail * stats.bsize} bytes free; the restore stages ${needed} bytes there`, { hint: 'free space there' });
  }
}
