// hossadm prune --keep-last N --keep-daily N --keep-weekly N [--keep-within D]:
// options -> runPrune. Confirmation unless --yes; --dry-run only shows.
import type { Command } from 'commander';
import { loadStackConfig } from '../config/stack-config.ts';
import { formatBytes, parseDuration } from '../core/human-units.ts';
import { runPrune, type PruneResult } from '../core/prune.ts';
import { UsageError } from '../errors.ts';
import type { CommandRunner } from './runner.ts';

interface PruneFlags {
  keepLast?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepWithin?: string;
  dryRun: boolean;
}

function count(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number, not "${value}"`);
  return Number(value);
}

function render(r: PruneResult): string {
  const lines = [
    r.dryRun
      ? `Would delete ${r.removed.length} backup(s), ${formatBytes(r.freedBytes)} (nothing was deleted):`
      : `Deleted ${r.removed.length} backup(s), ${formatBytes(r.freedBytes)} freed.`,
  ];
  if (r.dryRun) for (const a of r.removed) lines.push(`  delete ${a.name}  ${formatBytes(a.bytes)}`);
  lines.push(`Keeping ${r.kept.length}:`);
  for (const a of r.kept) lines.push(`  keep   ${a.name}  ${formatBytes(a.bytes)}  (${a.reasons.join(', ')})`);
  return lines.join('\n');
}

export function registerPrune(program: Command, run: CommandRunner): void {
  program
    .command('prune')
    .description('delete the backups no retention rule keeps (an archive is kept if any rule keeps it); never the newest verified one')
    .option('--keep-last <n>', 'keep the N newest backups')
    .option('--keep-daily <n>', 'keep the newest backup of each of the N newest days (UTC) that have one')
    .option('--keep-weekly <n>', 'keep the newest backup of each of the N newest ISO weeks that have one')
    .option('--keep-within <duration>', 'keep every backup younger than this (e.g. 36h, 7d)')
    .option('--dry-run', 'show what would be deleted and delete nothing', false)
    .action((opts: PruneFlags) =>
      run(async (session) => {
        const within = opts.keepWithin === undefined ? 0 : parseDuration(opts.keepWithin);
        if (within === undefined) throw new UsageError(`--keep-within takes a duration such as 36h or 7d, not "${opts.keepWithin}"`);
        const rules = {
          keepLast: count('--keep-last', opts.keepLast),
          keepDaily: count('--keep-daily', opts.keepDaily),
          keepWeekly: count('--keep-weekly', opts.keepWeekly),
          keepWithinSeconds: within,
        };
        const config = await loadStackConfig(session.profile, session.source);
        const result = await runPrune(
          { config, reporter: session.reporter, prompter: session.prompter, now: () => new Date() },
          { rules, dryRun: opts.dryRun },
        );
        return { json: result, text: render(result) };
      }),
    );
}
