// hossadm list: the backups as a table (or --json), newest first.
import type { Command } from 'commander';
import { listBackups, type BackupRow } from '../core/backup-list.ts';
import { formatBytes } from '../core/human-units.ts';
import { loadStackConfig } from '../config/stack-config.ts';
import { listRemote, type RemoteEntry } from '../core/offsite-catalog.ts';
import { addFromOption, withTarget } from './target-options.ts';
import type { CommandRunner } from './runner.ts';

function verified(row: BackupRow): string {
  const v = row.lastVerified;
  if (!v) return 'never';
  return `${v.ok ? 'ok' : 'FAILED'} ${v.at.slice(0, 16).replace('T', ' ')} ${v.mode}`;
}

/** Columns padded to their widest cell; an unreadable archive shows its problem after its name, date and size. */
export function renderTable(rows: readonly BackupRow[], backupsDir: string): string {
  if (rows.length === 0) return `No backups in ${backupsDir}`;
  const header = ['NAME', 'DATE (UTC)', 'SIZE', 'STACK', 'COMPONENTS', 'MODE', 'LAST VERIFIED'];
  const cells = rows.map((r) => {
    const common = [r.name, r.takenAt.slice(0, 19).replace('T', ' '), formatBytes(r.bytes)];
    if (r.problem) return [...common, `UNREADABLE: ${r.problem}`];
    // The manifest is inside the encryption; the host holds no key to read it.
    if (r.encrypted && r.components.length === 0) return [...common, '-', 'encrypted (age)', '-', verified(r)];
    return [...common, r.stackVersion ?? '?', r.components.join(','), r.consistency ?? '?', verified(r)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.filter((c) => c.length === header.length).map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((cell, i) => (i === c.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [line(header), ...cells.map(line), `${rows.length} backup(s) in ${backupsDir}`].join('\n');
}

/** A target is read by listing only: names, dates and sizes, no manifest. */
export function renderRemoteTable(rows: readonly RemoteEntry[], where: string): string {
  if (rows.length === 0) return `No backups in ${where}`;
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const lines = rows.map((r) => `${r.name.padEnd(width)}  ${r.takenAt.toISOString().slice(0, 19).replace('T', ' ')}  ${formatBytes(r.bytes)}`);
  return [`${'NAME'.padEnd(width)}  DATE (UTC)           SIZE`, ...lines, `${rows.length} backup(s) in ${where}`].join('\n');
}

export function registerList(program: Command, run: CommandRunner): void {
  addFromOption(
    program.command('list').description('list the backups in BACKUP_ROOT/backups (or a target) with their date, size, versions and last verification'),
  ).action((opts: { from?: string }) =>
    run(async (session, signal) => {
      if (opts.from) {
        const rows = await withTarget(session, opts.from, (target) => listRemote(target, session.profile.archivePrefix, signal));
        return { json: rows, text: renderRemoteTable(rows, opts.from) };
      }
      const config = await loadStackConfig(session.profile, session.source);
      const rows = await listBackups(config.backupsDir, config.profile.archivePrefix);
      return { json: rows, text: renderTable(rows, config.backupsDir) };
    }),
  );
}
