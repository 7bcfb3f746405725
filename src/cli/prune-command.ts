// hossadm prune --keep-last N --keep-daily N --keep-weekly N [--keep-within D]:
// options -> runPrune. Confirmation unless --yes; --dry-run only shows.
import type { Command } from 'commander';
import { loadStackConfig } from '../config/stack-config.ts';
import { formatBytes } from '../core/human-units.ts';
import { pruneRemote } from '../core/offsite-catalog.ts';
import { runPrune, type PruneResult } from '../core/prune.ts';
import { addRetentionOptions, type RetentionFlags, retentionRules } from './retention-options.ts';
import type { CommandRunner } from './runner.ts';
import { addFromOption, withTarget } from './target-options.ts';

interface PruneFlags extends RetentionFlags {
  dryRun: boolean;
  from?: string;
}

export function renderPrune(r: PruneResult): string {
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
  addFromOption(
    addRetentionOptions(
      program
        .command('prune')
        .description('delete the backups no retention rule keeps (an archive is kept if any rule keeps it); never the newest verified one'),
    ),
  )
    .option('--dry-run', 'show what would be deleted and delete nothing', false)
    .action((opts: PruneFlags) =>
      run(async (session) => {
        const rules = retentionRules(opts);
        if (opts.from) {
          const deps = { prefix: session.profile.archivePrefix, reporter: session.reporter, prompter: session.prompter, now: () => new Date() };
          const result = await withTarget(session, opts.from, (target) => pruneRemote({ ...deps, target }, { rules, dryRun: opts.dryRun }));
          return { json: result, text: renderPrune(result) };
        }
        const config = await loadStackConfig(session.profile, session.source);
        const result = await runPrune(
          { config, reporter: session.reporter, prompter: session.prompter, now: () => new Date() },
          { rules, dryRun: opts.dryRun },
        );
        return { json: result, text: renderPrune(result) };
      }),
    );
}
