// What a killed run (SIGKILL, power loss) leaves behind, and how the next
// run holding the same BACKUP_ROOT lock cleans it up. Only what provably
// belongs to hossadm is touched: containers the dead run noted as stopped
// in its lock, helper containers labelled with its run id, `*.partial`
// archives in backups/ and pipes in the restore's pipe folder. Each cleanup
// is said in one warning line.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PARTIAL_SUFFIX } from '../archive/atomic-file.ts';
import type { StackConfig } from '../config/stack-config.ts';
import { projectContainers } from '../docker/compose-services.ts';
import type { DockerClient } from '../docker/types.ts';
import { releaseLeftPipes } from './fifo.ts';
import type { Lock } from './lock.ts';
import { startLeftStopped } from './writers.ts';

/** The folder where a restore makes its pipes (bind-mounted into helpers). */
export const restorePipeDir = (config: StackConfig) => join(config.backupRoot, '.restore');

export interface LeftoverDeps {
  config: StackConfig;
  docker: DockerClient;
  lock: Lock;
  warn: (message: string) => void;
}

/** Cleans what a dead run left; returns true when it started containers again (the caller's list of containers is then stale). */
export async function cleanUpAfterDeadRun({ config, docker, lock, warn }: LeftoverDeps): Promise<boolean> {
  const dead = lock.previous;
  const who = dead ? `the interrupted ${dead.command} run (pid ${dead.pid}, started ${dead.startedAt})` : 'an interrupted run';
  let started: string[] = [];
  if (dead?.stopped?.length) {
    started = await startLeftStopped(docker, dead, await projectContainers(docker, config.project));
    if (started.length > 0) warn(`started ${started.join(', ')} again: ${who} had stopped them`);
  }
  if (dead?.runId) {
    const removed = await docker.removeHelpers({ runId: dead.runId });
    if (removed > 0) warn(`removed ${removed} helper container(s) of ${who}`);
  }
  for (const name of await readdir(config.backupsDir).catch(() => [] as string[])) {
    // Under the lock no other run writes an archive here, so a partial one is
    // a dead run's; other partial files (.verified.json's) are not ours to judge.
    if (!name.startsWith(`${config.profile.archivePrefix}-`) || !name.endsWith(PARTIAL_SUFFIX)) continue;
    await rm(join(config.backupsDir, name), { force: true });
    warn(`removed ${name} from ${config.backupsDir}: an unfinished archive of ${who}`);
  }
  const pipes = await releaseLeftPipes(restorePipeDir(config));
  if (pipes.length > 0) warn(`removed ${pipes.length} pipe(s) left in ${restorePipeDir(config)} by ${who}`);
  return started.length > 0;
}
