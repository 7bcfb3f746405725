// What list, prune and check see in a target: the archives of one profile
// by the UTC stamp in their names. A target is read by listing only, so no
// manifest is opened and nothing is downloaded; an archive is "damaged"
// here only when its name says nothing (then it is not one of ours).
import { DeclinedError } from '../errors.ts';
import type { RemoteArchive, Target } from '../offsite/target.ts';
import type { Prompter } from '../ui/prompter.ts';
import type { Reporter } from '../ui/reporter.ts';
import { archiveDate } from './catalog.ts';
import { evaluateHealth, type HealthResult, type HealthThresholds } from './health.ts';
import { formatBytes } from './human-units.ts';
import type { PrunedArchive, PruneResult } from './prune.ts';
import { planRetention, type RetentionRules } from './retention.ts';

export interface RemoteEntry extends RemoteArchive {
  takenAt: Date;
}

/** The profile's archives in the target, newest first. */
export async function listRemote(target: Target, prefix: string, signal?: AbortSignal): Promise<RemoteEntry[]> {
  const entries: RemoteEntry[] = [];
  for (const archive of await target.list(signal)) {
    // The same names as in BACKUP_ROOT: a side file such as <archive>.sha256 is not an archive.
    const takenAt = archiveDate(archive.name, prefix);
    if (takenAt) entries.push({ ...archive, takenAt });
  }
  return entries.sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || (a.name < b.name ? 1 : -1));
}

export interface RemotePruneDeps {
  target: Target;
  prefix: string;
  reporter: Reporter;
  prompter: Prompter;
  now: () => Date;
}

/** The same rules as a local prune; nothing is recorded as verified in a target, so no archive is protected as "newest verified". */
export async function pruneRemote(deps: RemotePruneDeps, options: { rules: RetentionRules; dryRun: boolean }): Promise<PruneResult> {
  const entries = await listRemote(deps.target, deps.prefix);
  const bytes = new Map(entries.map((e) => [e.name, e.bytes]));
  const decisions = planRetention(
    entries.map((e) => ({ name: e.name, takenAt: e.takenAt, damaged: false, verified: false })),
    options.rules,
    deps.now(),
  );
  const shown = (d: (typeof decisions)[number]): PrunedArchive => ({ name: d.name, takenAt: d.takenAt.toISOString(), bytes: bytes.get(d.name) ?? 0, reasons: d.reasons });
  const kept = decisions.filter((d) => d.keep).map(shown);
  const going = decisions.filter((d) => !d.keep).map(shown);
  const total = (list: PrunedArchive[]) => list.reduce((sum, a) => sum + a.bytes, 0);
  if (options.dryRun || going.length === 0) return { dryRun: options.dryRun, kept, removed: going, freedBytes: total(going) };
  for (const a of going) deps.reporter.info(`  delete ${a.name} (${formatBytes(a.bytes)})`);
  const yes = await deps.prompter.confirm(`Delete ${going.length} backup(s) from ${deps.target.url}, ${formatBytes(total(going))}, keeping ${kept.length}?`, false);
  if (!yes) throw new DeclinedError('prune declined; nothing was deleted');
  const removed: PrunedArchive[] = [];
  for (const archive of going) {
    await deps.reporter.step(`delete ${archive.name} from ${deps.target.url}`, () => deps.target.remove(archive.name));
    removed.push(archive);
  }
  return { dryRun: false, kept, removed, freedBytes: total(removed) };
}

/** check --max-age on a target: the newest archive's age (and size); verifications are not kept there. */
export async function checkRemote(target: Target, prefix: string, thresholds: HealthThresholds, now: Date): Promise<HealthResult> {
  const newest = (await listRemote(target, prefix))[0];
  return evaluateHealth(
    {
      backupsDir: target.url,
      newest: newest && { name: newest.name, takenAt: newest.takenAt, bytes: newest.bytes },
      newestVerification: undefined,
      lastVerification: undefined,
    },
    thresholds,
    now,
  );
}
