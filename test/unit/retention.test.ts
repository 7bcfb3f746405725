// The prune planner on many dates: each rule alone, the rules combined (kept
// when any rule keeps it), UTC days and ISO weeks at year ends, damaged
// archives that fill no slot and are never deleted, and the newest verified
// archive that is never deleted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayKey, isoWeekKey, planRetention, type RetentionCandidate, type RetentionRules } from '../../src/core/retention.ts';
import { UsageError } from '../../src/errors.ts';

const NO_RULES: RetentionRules = { keepLast: 0, keepDaily: 0, keepWeekly: 0, keepWithinSeconds: 0 };
const rules = (over: Partial<RetentionRules>): RetentionRules => ({ ...NO_RULES, ...over });

function archive(iso: string, over: Partial<RetentionCandidate> = {}): RetentionCandidate {
  const takenAt = new Date(iso);
  const stamp = takenAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return { name: `hoss-backup-${stamp}.tar.zst`, takenAt, damaged: false, verified: false, ...over };
}

/** Backups every `hours` hours from `start` for `count` runs. */
function series(start: string, hours: number, count: number): RetentionCandidate[] {
  const t0 = new Date(start).getTime();
  return Array.from({ length: count }, (_, i) => archive(new Date(t0 + i * hours * 3_600_000).toISOString()));
}

const kept = (decisions: ReturnType<typeof planRetention>) => decisions.filter((d) => d.keep).map((d) => d.takenAt.toISOString());
const NOW = new Date('2026-11-22T12:00:00Z');

test('ISO weeks belong to the year of their Thursday; days are UTC', () => {
  assert.equal(isoWeekKey(new Date('2026-11-22T23:59:59Z')), '2026-W47'); // a Sunday
  assert.equal(isoWeekKey(new Date('2026-11-23T00:00:00Z')), '2026-W48'); // the Monday after
  assert.equal(isoWeekKey(new Date('2021-01-03T12:00:00Z')), '2020-W53');
  assert.equal(isoWeekKey(new Date('2024-12-30T00:00:00Z')), '2025-W01');
  assert.equal(isoWeekKey(new Date('2026-01-01T00:00:00Z')), '2026-W01'); // a Thursday
  assert.equal(isoWeekKey(new Date('2027-01-01T00:00:00Z')), '2026-W53'); // a Friday of a 53-week year
  assert.equal(dayKey(new Date('2026-11-22T23:30:00-02:00')), '2026-11-23');
});

test('--keep-last keeps the N newest, whatever their order on input', () => {
  const all = series('2026-11-01T02:00:00Z', 24, 10).reverse().sort(() => 0.5 - Math.random());
  assert.deepEqual(kept(planRetention(all, rules({ keepLast: 3 }), NOW)), ['2026-11-10T02:00:00.000Z', '2026-11-09T02:00:00.000Z', '2026-11-08T02:00:00.000Z']);
  assert.equal(kept(planRetention(all, rules({ keepLast: 50 }), NOW)).length, 10);
});

test('--keep-daily keeps the last archive of each of the N newest days that have one, skipping empty days', () => {
  // Three a day, with 11-04 and 11-05 missing.
  const all = series('2026-11-01T01:00:00Z', 8, 9).concat(series('2026-11-06T01:00:00Z', 8, 6));
  assert.deepEqual(kept(planRetention(all, rules({ keepDaily: 4 }), NOW)), [
    '2026-11-07T17:00:00.000Z', '2026-11-06T17:00:00.000Z', '2026-11-03T17:00:00.000Z', '2026-11-02T17:00:00.000Z',
  ]);
  const reasons = planRetention(all, rules({ keepDaily: 1 }), NOW).find((d) => d.keep)!.reasons;
  assert.deepEqual(reasons, ['daily 2026-11-07']);
});

test('--keep-weekly keeps the newest of each ISO week, across a year end', () => {
  const all = series('2026-12-14T03:00:00Z', 24, 30); // 14 Dec 2026 .. 12 Jan 2027
  const decisions = planRetention(all, rules({ keepWeekly: 5 }), NOW);
  assert.deepEqual(decisions.filter((d) => d.keep).map((d) => d.reasons[0]), [
    'weekly 2027-W02', 'weekly 2027-W01', 'weekly 2026-W53', 'weekly 2026-W52', 'weekly 2026-W51',
  ]);
  // The newest of week 2026-W53 is Sunday 3 January 2027.
  assert.ok(kept(decisions).includes('2027-01-03T03:00:00.000Z'));
});

test('rules combine: kept when any rule keeps it, with every reason named', () => {
  const all = series('2026-10-01T02:00:00Z', 12, 104); // twice a day for 52 days
  const decisions = planRetention(all, rules({ keepLast: 3, keepDaily: 7, keepWeekly: 4 }), NOW);
  const keptNames = kept(decisions);
  // Newest is Sat 21 Nov 14:00. last 3: 21st 14h and 2h, 20th 14h; daily 7: 15th..21st at 14h;
  // weekly 4: 21st, 15th (both already kept), 8th, 1st.
  assert.deepEqual(keptNames.map((iso) => iso.slice(5, 13)), [
    '11-21T14', '11-21T02', '11-20T14', '11-19T14', '11-18T14', '11-17T14', '11-16T14', '11-15T14', '11-08T14', '11-01T14',
  ]);
  const newest = decisions[0]!;
  assert.deepEqual(newest.reasons, ['last 1', 'daily 2026-11-21', 'weekly 2026-W47']);
  assert.deepEqual(decisions[1]!.reasons, ['last 2']);
  assert.deepEqual(decisions.find((d) => d.takenAt.toISOString().startsWith('2026-11-15T14'))!.reasons, ['daily 2026-11-15', 'weekly 2026-W46']);
  assert.ok(decisions.slice(1).every((d, i) => d.takenAt < decisions[i]!.takenAt), 'newest first');
  assert.equal(decisions.filter((d) => !d.keep).length, 104 - keptNames.length);
});

test('--keep-within keeps everything younger than the duration', () => {
  const all = series('2026-11-15T12:00:00Z', 24, 8); // 15..22 Nov at noon
  assert.deepEqual(kept(planRetention(all, rules({ keepWithinSeconds: 3 * 86_400 }), NOW)), [
    '2026-11-22T12:00:00.000Z', '2026-11-21T12:00:00.000Z', '2026-11-20T12:00:00.000Z', '2026-11-19T12:00:00.000Z',
  ]);
});

test('the newest archive that passed verification is never deleted', () => {
  const all = series('2026-11-01T02:00:00Z', 24, 10);
  all[4] = { ...all[4]!, verified: true };
  all[2] = { ...all[2]!, verified: true };
  const decisions = planRetention(all, rules({ keepLast: 2 }), NOW);
  assert.deepEqual(kept(decisions), ['2026-11-10T02:00:00.000Z', '2026-11-09T02:00:00.000Z', '2026-11-05T02:00:00.000Z']);
  assert.deepEqual(decisions.find((d) => d.takenAt.toISOString() === '2026-11-05T02:00:00.000Z')!.reasons, ['newest verified']);
});

test('damaged archives fill no slot and are kept for a person to look at', () => {
  const all = series('2026-11-01T02:00:00Z', 24, 5);
  all[4] = { ...all[4]!, damaged: true };
  const decisions = planRetention(all, rules({ keepLast: 2 }), NOW);
  assert.deepEqual(kept(decisions), ['2026-11-05T02:00:00.000Z', '2026-11-04T02:00:00.000Z', '2026-11-03T02:00:00.000Z']);
  assert.match(decisions[0]!.reasons[0]!, /damaged/);
});

test('no rule, or a negative or fractional count, is a usage error; an empty folder plans nothing', () => {
  assert.throws(() => planRetention([archive('2026-11-01T00:00:00Z')], NO_RULES, NOW), (e: unknown) => e instanceof UsageError && /at least one rule/.test(e.message));
  assert.throws(() => planRetention([], rules({ keepLast: -1 }), NOW), UsageError);
  assert.throws(() => planRetention([], rules({ keepDaily: 1.5 }), NOW), UsageError);
  assert.deepEqual(planRetention([], rules({ keepLast: 1 }), NOW), []);
});

test('several archives on the same second sort by name and one of them is the day\'s', () => {
  const a = archive('2026-11-20T02:00:00Z');
  const b = { ...a, name: a.name.replace('.tar.zst', '.tar.gz') };
  const decisions = planRetention([b, a], rules({ keepDaily: 1 }), NOW);
  assert.equal(decisions.filter((d) => d.keep).length, 1);
});
