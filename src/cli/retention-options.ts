// The retention flags, shared by `prune` and `backup --then-prune`, and how
// they become the rules the core takes.
import type { Command } from 'commander';
import { parseDuration } from '../core/human-units.ts';
import type { RetentionRules } from '../core/retention.ts';
import { UsageError } from '../errors.ts';

export interface RetentionFlags {
  keepLast?: string;
  keepDaily?: string;
  keepWeekly?: string;
  keepWithin?: string;
}

export function addRetentionOptions(command: Command, note = ''): Command {
  return command
    .option('--keep-last <n>', `keep the N newest backups${note}`)
    .option('--keep-daily <n>', `keep the newest backup of each of the N newest days (UTC) that have one${note}`)
    .option('--keep-weekly <n>', `keep the newest backup of each of the N newest ISO weeks that have one${note}`)
    .option('--keep-within <duration>', `keep every backup younger than this (e.g. 36h, 7d)${note}`);
}

/** Whether any retention flag was given. */
export function retentionGiven(flags: RetentionFlags): boolean {
  return [flags.keepLast, flags.keepDaily, flags.keepWeekly, flags.keepWithin].some((v) => v !== undefined);
}

function count(flag: string, value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number, not "${value}"`);
  return Number(value);
}

export function retentionRules(flags: RetentionFlags): RetentionRules {
  const within = flags.keepWithin === undefined ? 0 : parseDuration(flags.keepWithin);
  if (within === undefined) throw new UsageError(`--keep-within takes a duration such as 36h or 7d, not "${flags.keepWithin}"`);
  return {
    keepLast: count('--keep-last', flags.keepLast),
    keepDaily: count('--keep-daily', flags.keepDaily),
    keepWeekly: count('--keep-weekly', flags.keepWeekly),
    keepWithinSeconds: within,
  };
}
