// Which archives `prune` keeps: pure, so that it can be tested with any set
// of dates. The rules combine as in restic and borg: an archive is kept when
// any rule keeps it. Days and weeks are UTC (the clock archive names use);
// weeks are ISO weeks, Monday to Sunday.
import { UsageError } from '../errors.ts';

export interface RetentionRules {
  /** The N newest archives. */
  keepLast: number;
  /** The newest archive of each of the N newest days that have one. */
  keepDaily: number;
  /** The newest archive of each of the N newest ISO weeks that have one. */
  keepWeekly: number;
  /** Every archive younger than this many seconds (0: rule off). */
  keepWithinSeconds: number;
}

export interface RetentionCandidate {
  name: string;
  takenAt: Date;
  /** Its manifest does not read, or its last verification failed: it fills no rule's slot. */
  damaged: boolean;
  /** Its last verification passed. */
  verified: boolean;
}

export interface RetentionDecision {
  name: string;
  takenAt: Date;
  keep: boolean;
  /** Why it is kept (empty when it goes). */
  reasons: string[];
}

export function checkRules(rules: RetentionRules): void {
  for (const [name, value] of Object.entries(rules)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${name} must be a whole number of 0 or more, not ${value}`);
  }
  if (rules.keepLast + rules.keepDaily + rules.keepWeekly + rules.keepWithinSeconds === 0) {
    // Without a rule every archive would go: that is never what a prune is for.
    throw new UsageError('prune needs at least one rule', { hint: 'add --keep-last N, --keep-daily N, --keep-weekly N or --keep-within DURATION' });
  }
}

export function dayKey(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** ISO 8601 week, e.g. 2026-W47: the week belongs to the year of its Thursday. */
export function isoWeekKey(date: Date): string {
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Keeps the newest archive of each of the first `count` periods that have one. */
function keepPerPeriod(newestFirst: readonly RetentionCandidate[], count: number, period: (d: Date) => string, label: string, keep: (name: string, reason: string) => void): void {
  const seen = new Set<string>();
  for (const candidate of newestFirst) {
    if (seen.size >= count) return;
    const key = period(candidate.takenAt);
    if (seen.has(key)) continue;
    seen.add(key);
    keep(candidate.name, `${label} ${key}`);
  }
}

/** One decision per candidate, newest first. */
export function planRetention(candidates: readonly RetentionCandidate[], rules: RetentionRules, now: Date): RetentionDecision[] {
  checkRules(rules);
  const newestFirst = [...candidates].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime() || (a.name < b.name ? 1 : -1));
  const reasons = new Map(newestFirst.map((c) => [c.name, [] as string[]]));
  const keep = (name: string, reason: string) => reasons.get(name)!.push(reason);

  const good = newestFirst.filter((c) => !c.damaged);
  // Damaged archives are neither counted nor deleted: someone should look at them first.
  for (const c of newestFirst) if (c.damaged) keep(c.name, 'damaged (delete by hand after a look)');
  for (const [i, c] of good.slice(0, rules.keepLast).entries()) keep(c.name, `last ${i + 1}`);
  keepPerPeriod(good, rules.keepDaily, dayKey, 'daily', keep);
  keepPerPeriod(good, rules.keepWeekly, isoWeekKey, 'weekly', keep);
  if (rules.keepWithinSeconds > 0) {
    const since = now.getTime() - rules.keepWithinSeconds * 1000;
    for (const c of good) if (c.takenAt.getTime() >= since) keep(c.name, 'within');
  }
  const newestVerified = good.find((c) => c.verified);
  if (newestVerified) keep(newestVerified.name, 'newest verified');

  return newestFirst.map((c) => ({ name: c.name, takenAt: c.takenAt, keep: reasons.get(c.name)!.length > 0, reasons: reasons.get(c.name)! }));
}
