// hossadm prune: deletes the archives no retention rule keeps. The plan is
// shown and confirmed first; the deletion runs under the BACKUP_ROOT lock
// and removes only archives the operator saw in the plan that a fresh plan,
// made under the lock, still drops (a backup may have finished meanwhile).
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { syncFolder } from '../archive/atomic-file.ts';
import type { StackConfig } from '../config/stack-config.ts';
import { DeclinedError } from '../errors.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import { listArchives } from './catalog.ts';
import { formatBytes } from './human-units.ts';
import { acquireLock } from './lock.ts';
import { planRetention, type RetentionDecision, type RetentionRules } from './retention.ts';
import { forgetVerifications, readVerifications } from './verification-record.ts';

export interface PruneDeps {
  config: StackConfig;
  reporter: Reporter;
  prompter: Prompter;
  now: () => Date;
}

export interface PruneOptions {
  rules: RetentionRules;
  dryRun: boolean;
}

export interface PrunedArchive {
  name: string;
  takenAt: string;
  bytes: number;
  reasons: string[];
}

export interface PruneResult {
  dryRun: boolean;
  kept: PrunedArchive[];
  /** Deleted, or with --dry-run the ones that would be. */
  removed: PrunedArchive[];
  freedBytes: number;
}

async function plan(backupsDir: string, prefix: string, rules: RetentionRules, now: Date): Promise<{ decisions: RetentionDecision[]; bytes: Map<string, number> }> {
  const [entries, verifications] = await Promise.all([listArchives(backupsDir, prefix), readVerifications(backupsDir)]);
  const candidates = entries.map((e) => ({
    name: e.name,
    takenAt: e.takenAt,
    // The catalog names a problem only for an archive it could not read; an encrypted one unread for want of the key has none.
    damaged: e.problem !== undefined || verifications[e.name]?.ok === false,
    verified: verifications[e.name]?.ok === true,
  }));
  return { decisions: planRetention(candidates, rules, now), bytes: new Map(entries.map((e) => [e.name, e.bytes])) };
}

const shown = (d: RetentionDecision, bytes: Map<string, number>): PrunedArchive => ({ name: d.name, takenAt: d.takenAt.toISOString(), bytes: bytes.get(d.name) ?? 0, reasons: d.reasons });

export async function runPrune(deps: PruneDeps, options: PruneOptions): Promise<PruneResult> {
  const { config, reporter } = deps;
  const first = await plan(config.backupsDir, config.profile.archivePrefix, options.rules, deps.now());
  const kept = first.decisions.filter((d) => d.keep).map((d) => shown(d, first.bytes));
  const going = first.decisions.filter((d) => !d.keep).map((d) => shown(d, first.bytes));
  const total = (list: PrunedArchive[]) => list.reduce((sum, a) => sum + a.bytes, 0);
  if (options.dryRun || going.length === 0) return { dryRun: options.dryRun, kept, removed: going, freedBytes: total(going) };

  for (const a of going) reporter.info(`  delete ${a.name} (${formatBytes(a.bytes)})`);
  const yes = await deps.prompter.confirm(`Delete ${going.length} backup(s), ${formatBytes(total(going))}, keeping ${kept.length}?`, false);
  if (!yes) throw new DeclinedError('prune declined; nothing was deleted');

  const lock = await acquireLock(config.backupRoot, 'prune', (m) => reporter.warn(m), undefined, false);
  const removed: PrunedArchive[] = [];
  try {
    const again = await plan(config.backupsDir, config.profile.archivePrefix, options.rules, deps.now());
    const stillGoing = new Set(again.decisions.filter((d) => !d.keep).map((d) => d.name));
    for (const archive of going.filter((a) => stillGoing.has(a.name))) {
      await reporter.step(`delete ${archive.name}`, () => unlink(join(config.backupsDir, archive.name)));
      removed.push(archive);
    }
    await syncFolder(config.backupsDir);
    if (removed.length > 0) await forgetVerifications(config.backupsDir, removed.map((a) => a.name));
  } finally {
    await lock.release();
  }
  const spared = going.filter((a) => !removed.includes(a)).map((a) => ({ ...a, reasons: ['kept by the plan made under the lock'] }));
  return { dryRun: false, kept: [...kept, ...spared], removed, freedBytes: total(removed) };
}
