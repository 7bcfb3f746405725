// How commands reach targets: URLs from the command line or HOSSADM_COPY_TO,
// opened through the registry of target kinds with the session's
// environment (credentials never come from argv), closed after use.
import type { Command } from 'commander';
import { UsageError } from '../errors.ts';
import '../offsite/kinds.ts';
import { isTargetUrl, openTarget } from '../offsite/registry.ts';
import type { Target } from '../offsite/target.ts';
import type { Session } from './options.ts';
import { type SettingsFile, setting } from './settings.ts';

export function openSessionTarget(session: Session, url: string): Promise<Target> {
  return openTarget(url, session.source.environment, (message) => session.reporter.warn(message));
}

/** Runs `work` with the target open, and closes it whatever happens. */
export async function withTarget<T>(session: Session, url: string, work: (target: Target) => Promise<T>): Promise<T> {
  const target = await openSessionTarget(session, url);
  try {
    return await work(target);
  } finally {
    await target.close().catch(() => undefined);
  }
}

/** --copy-to given on the command line, else HOSSADM_COPY_TO from the environment or the stack's .env (targets separated by spaces or commas). */
export function copyTargets(given: readonly string[] | undefined, env: Record<string, string | undefined>, stack?: SettingsFile): string[] {
  const urls = given && given.length > 0 ? [...given] : (setting(undefined, '', 'HOSSADM_COPY_TO', env, stack)?.value ?? '').split(/[\s,]+/).filter(Boolean);
  for (const url of urls)
    if (!isTargetUrl(url)) throw new UsageError(`"${url}" is not a target`, { hint: 'write it as s3://bucket/prefix or sftp://user@host/folder' });
  return [...new Set(urls)];
}

export function lockDays(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 36500) throw new UsageError(`--lock-days takes a whole number of days from 1, not "${raw}"`);
  return Number(raw);
}

export function addLockOption(command: Command): Command {
  return command.option('--lock-days <n>', 'keep each copy under object lock (compliance mode) for N days, where the server supports it');
}

/** --from <target>: list, prune and check look there instead of BACKUP_ROOT/backups. */
export function addFromOption(command: Command): Command {
  return command.option('--from <target>', 'work on the archives in a target (s3://bucket/prefix, sftp://user@host/folder) instead of BACKUP_ROOT/backups');
}
