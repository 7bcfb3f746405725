// backup --copy-to <target> (repeatable) and HOSSADM_COPY_TO (environment or .env): the targets
// are checked before the backup starts (a mistyped URL or missing
// credentials must not cost a night's run), the copies made once the
// archive is final. A failed copy fails the backup (exit 8) and keeps the
// local archive.
import type { Command } from 'commander';
import { copyToTargets, type CopyResult } from '../core/offsite-copy.ts';
import type { Target } from '../offsite/target.ts';
import type { Session } from './options.ts';
import type { SettingsFile } from './settings.ts';
import { addLockOption, copyTargets, lockDays, openSessionTarget } from './target-options.ts';

export interface CopyFlags {
  copyTo?: string[];
  lockDays?: string;
}

export interface CopyPlan {
  urls: string[];
  lockDays: number | undefined;
}

export function addCopyOptions(command: Command): Command {
  return addLockOption(command.option('--copy-to <target...>', 'copy the archive to this target once it is written (repeatable; default: $HOSSADM_COPY_TO)'));
}

/** Every target opened once and closed: its URL, kind and credentials settings are usable. */
export async function planCopies(session: Session, flags: CopyFlags, stack: SettingsFile): Promise<CopyPlan> {
  const urls = copyTargets(flags.copyTo, session.source.environment, stack);
  for (const url of urls) await (await openSessionTarget(session, url)).close();
  return { urls, lockDays: lockDays(flags.lockDays) };
}

export async function copyAfterBackup(session: Session, plan: CopyPlan, archive: string, signal: AbortSignal): Promise<CopyResult[]> {
  if (plan.urls.length === 0) return [];
  const targets: Target[] = [];
  try {
    for (const url of plan.urls) targets.push(await openSessionTarget(session, url));
    return await copyToTargets(targets, archive, session.reporter, { lockDays: plan.lockDays, signal });
  } finally {
    for (const target of targets) await target.close().catch(() => undefined);
  }
}
