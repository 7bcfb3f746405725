// An archive named by URL, <target>/<name> (or <target>/latest): restore
// and verify fetch it into a local folder first, then work on it as on any
// local archive.
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StackConfig } from '../config/stack-config.ts';
import { downloadArchive } from '../core/offsite-copy.ts';
import { listRemote } from '../core/offsite-catalog.ts';
import { ConfigError, UsageError } from '../errors.ts';
import { isTargetUrl, splitArchiveUrl } from '../offsite/registry.ts';
import type { Session } from './options.ts';
import { withTarget } from './target-options.ts';

export { isTargetUrl };

/** Where a restore keeps an archive it downloads: BACKUP_ROOT/backups of the stack, or of $BACKUP_ROOT on a fresh host. */
export function downloadFolder(config: StackConfig | undefined, env: Record<string, string | undefined>): string {
  if (config) return config.backupsDir;
  if (env.BACKUP_ROOT) return join(resolve(env.BACKUP_ROOT), 'backups');
  throw new UsageError('no stack configuration here, so no BACKUP_ROOT to download the archive into', {
    hint: 'set BACKUP_ROOT (the archive goes to $BACKUP_ROOT/backups), or --config-dir to the stack folder',
  });
}

/** Downloads <target>/<name> into `folder` and returns its path there. */
export async function fetchArchive(session: Session, url: string, folder: string, prefix: string, signal: AbortSignal): Promise<string> {
  const split = splitArchiveUrl(url);
  if (!split) throw new UsageError(`"${url}" does not name an archive in a target`, { hint: 'write <target>/<archive name> or <target>/latest' });
  await mkdir(folder, { recursive: true, mode: 0o700 });
  return withTarget(session, split.target, async (target) => {
    let name = split.name;
    if (name === 'latest') {
      const newest = (await listRemote(target, prefix, signal))[0];
      if (!newest) throw new ConfigError(`no backups in ${target.url}`, { hint: 'copy one there first (hossadm copy, backup --copy-to)' });
      name = newest.name;
    }
    return downloadArchive(target, name, folder, session.reporter, signal);
  });
}
