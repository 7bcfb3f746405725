// hossadm copy <archive> <target>: an existing archive to a target, as
// backup --copy-to does after a backup.
import type { Command } from 'commander';
import { loadStackConfig } from '../config/stack-config.ts';
import { copyArchive, type CopyResult } from '../core/offsite-copy.ts';
import type { CommandRunner } from './runner.ts';
import { addLockOption, lockDays, withTarget } from './target-options.ts';
import { findArchive } from './verify-command.ts';

export function renderCopies(copies: readonly CopyResult[]): string {
  return copies.map((c) => `Copied ${c.name} to ${c.target} (${c.bytes} bytes, ${c.seconds}s)`).join('\n');
}

export function registerCopy(program: Command, run: CommandRunner): void {
  addLockOption(
    program
      .command('copy <archive> <target>')
      .description('copy an archive (a path, its name in BACKUP_ROOT/backups, or "latest") to a target; the target proves the checksum'),
  ).action((archive: string, url: string, opts: { lockDays?: string }) =>
    run(async (session, signal) => {
      const days = lockDays(opts.lockDays);
      const config = await loadStackConfig(session.profile, session.source).catch(() => undefined);
      const path = await findArchive(archive, config);
      const copy = await withTarget(session, url, (target) => copyArchive(target, path, session.reporter, { lockDays: days, signal }));
      return { json: copy, text: renderCopies([copy]) };
    }),
  );
}
