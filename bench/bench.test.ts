// The bench's pure parts: how progress lines become steps, how repetitions
// become the table's figures and verdicts, and that the generated volume
// content is a tar any tar reads, the same every time. No timing is asserted.
// Run: sh scripts/node24.sh node --test bench/bench.test.ts (not part of npm test)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fillPlan, manyFilesShape, treeTar, ustarHeader } from './fill.ts';
import { parseSteps, stableLabel } from './measure.ts';
import type { HossadmRun } from './measure.ts';
import { type FloorPiece, floorRestore } from './floor.ts';
import { estimateMinutes, parseArgs, UsageError } from './options.ts';
import { markdownTable, median, readResults, renderResults, summarize, verdicts, type Repetition, type ScaleRun, type StackResult } from './report.ts';
import { freezePhaseSeconds, TARGETS } from './targets.ts';

test('median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('progress lines become steps; labels lose what changes run to run', () => {
  const steps = parseSteps([
    { at: 1000, text: '… volume bench1_ldap-vol0' },
    { at: 2000, text: '✔ volume bench1_ldap-vol0: 2 entries, 1073752576 bytes (9.1s)' },
    { at: 3000, text: '✔ stop writers (auth, core) (6.3s)' },
    { at: 4000, text: '✖ verify archive failed after 1.0s' },
  ]);
  assert.deepEqual(steps, [
    { label: 'volume bench1_ldap-vol0', seconds: 9.1, end: 2000 },
    { label: 'stop writers (auth, core)', seconds: 6.3, end: 3000 },
  ]);
  assert.equal(stableLabel('volume bench1_ldap-vol0', 'bench1'), 'volume ldap-vol0');
  // --json prints one JSON object per line; only finished steps count.
  const json = parseSteps([
    { at: 10, text: '{"time":"t","event":"step","step":"stop writers (thehive)","status":"started"}' },
    { at: 20, text: '{"time":"t","event":"progress","step":"stop writers (thehive)","bytes":1}' },
    { at: 30, text: '{"time":"t","event":"step","step":"stop writers (thehive)","status":"done","seconds":3.3,"summary":"x"}' },
    { at: 40, text: '{"time":"t","event":"step","step":"cassandra","status":"failed","seconds":1}' },
    { at: 50, text: '{not json' },
  ]);
  assert.deepEqual(json, [{ label: 'stop writers (thehive)', seconds: 3.3, end: 30 }]);
  assert.equal(stableLabel('verify /tmp/x/hoss-backup-1.tar.zst', 'bench1'), 'verify <path>');
  assert.equal(stableLabel('opensearch snapshot hoss-snap-20261122t1', 'bench1'), 'opensearch snapshot <snapshot>');
});

function hossadmRun(seconds: number, rss: number, disk = 0): HossadmRun {
  return { seconds, cpuSeconds: 1, userSeconds: 1, systemSeconds: 0, peakRssBytes: rss, peakExtraDiskBytes: disk, steps: [{ label: 'volume a', seconds: 2, peakRssBytes: rss }], result: {} };
}

function scaleRun(scale: number, backup: number[], floor: number[]): ScaleRun {
  const repetitions: Repetition[] = backup.map((seconds, i) => ({
    loadavg: [1, 1, 1],
    order: i % 2 === 0 ? 'floor-first' : 'hossadm-first',
    floorBackup: { parts: { a: floor[i]! }, total: floor[i]!, volumeBytes: 0, dumpBytes: 0 },
    floorRestore: { parts: { a: floor[i]! }, total: floor[i]! },
    backup: hossadmRun(seconds, 100 * 2 ** 20, 200 * scale),
    restore: hossadmRun(seconds * 2, 90 * 2 ** 20),
    archiveBytes: 100 * scale,
    windowSeconds: 3,
    downtimeSeconds: 4,
    volumePhaseSeconds: 2,
  }));
  return { scale, stackSeedScale: scale * 10, state: { x: scale }, repetitions };
}

test('summary takes medians of times and the worst disk ratio; verdicts compare with the targets', () => {
  const base = summarize(scaleRun(1, [10, 12, 30], [9, 10, 10]));
  assert.equal(base.backupSeconds, 12);
  assert.equal(base.backupFloorSeconds, 10);
  assert.equal(base.backupRatio, 1.2);
  assert.equal(base.diskRatio, 2);
  const grown = summarize(scaleRun(4, [50, 52, 54], [40, 40, 40]));
  const rows = verdicts(base, grown, 4);
  const met = Object.fromEntries(rows.map((r) => [r.name, r.met]));
  assert.equal(met['backup vs floor'], true);
  assert.equal(met['restore vs floor'], false);
  assert.equal(met['peak extra disk vs archive'], true);
  assert.equal(met['downtime vs volume copy'], false);
  assert.equal(met['time at 4× / at 1×'], true);
  assert.equal(rows.length, 6);
  assert.equal(verdicts(base, undefined, 4).length, 5);
});

test('ustar headers carry a valid checksum', () => {
  const header = ustarHeader('small/d0000/f000.dat', 1234, '0', 0o644);
  const stored = parseInt(header.subarray(148, 154).toString('ascii'), 8);
  const copy = Buffer.from(header);
  copy.fill(0x20, 148, 156);
  assert.equal(stored, copy.reduce((sum, byte) => sum + byte, 0));
});

test('the generated tree is a tar GNU tar lists, the same bytes every time', () => {
  // The first 300 MiB (two large files and the start of a third) are
  // enough to show the stream is deterministic without hashing it all.
  const digest = (chunks: Iterable<Buffer>) => {
    const hash = createHash('sha256');
    let taken = 0;
    const parts: Buffer[] = [];
    for (const chunk of chunks) {
      hash.update(chunk);
      if (taken < 64 * 1024) parts.push(chunk);
      taken += chunk.length;
      if (taken > 300 * 2 ** 20) break;
    }
    return { sha: hash.digest('hex'), head: Buffer.concat(parts) };
  };
  const first = digest(treeTar(1));
  const second = digest(treeTar(1));
  assert.equal(first.sha, second.sha);
  const plan = fillPlan(1);
  assert.equal(plan.files, 4 + 200 * 100);
  assert.ok(plan.bytes > 850e6 && plan.bytes < 900e6);
  const listing = spawnSync('tar', ['-tvf', '-'], { input: first.head.subarray(0, 1024) });
  assert.match(listing.stdout.toString(), /1000\/1000\s+0 2022-01-01 00:00 large\//);
});

test('the command line: --stack picks one stack, several or all; defaults keep the HOSS bench as it was', () => {
  const parse = (...argv: string[]) => parseArgs(argv, TARGETS);
  const defaults = parse();
  assert.deepEqual(defaults, { stacks: ['hoss'], scale: 1, runs: 3, grownRuns: 1, factor: undefined, files: 200_000, out: undefined });
  assert.deepEqual(parse('--stack', 'hoss').stacks, ['hoss']);
  assert.deepEqual(parse('--stack', 'wire').stacks, ['wire']);
  assert.deepEqual(parse('--stack', 'all').stacks, ['hoss', 'thehive', 'wire', 'cybersift']);
  assert.deepEqual(parse('--stack', 'cybersift,thehive,cybersift').stacks, ['cybersift', 'thehive']);
  const quick = parse('--stack', 'thehive', '--runs', '1', '--factor', '1', '--files', '0', '--out', '/tmp/x.json');
  assert.deepEqual(quick, { stacks: ['thehive'], scale: 1, runs: 1, grownRuns: 1, factor: 1, files: 0, out: '/tmp/x.json' });
  for (const bad of [['--stack', 'nope'], ['--stack'], ['--runs', '0'], ['--runs', 'x'], ['--files', '-1'], ['--out'], ['--what'], ['--scale', '30']]) {
    assert.throws(() => parse(...bad), UsageError, bad.join(' '));
  }
  // The seed limit is per stack: HOSS at scale 25 with its 4× would pass 1000.
  assert.doesNotThrow(() => parse('--scale', '26', '--factor', '1'));
  assert.throws(() => parse('--scale', '26'), /hoss: scale × factor × 10/);
});

test('the estimate adds each stack\'s fixed cost, its runs, the grown runs and the many-files case', () => {
  const costs = {
    hoss: { minutesPerRun: 2, minutesFixed: 3, defaultFactor: 4 },
    thehive: { minutesPerRun: 1, minutesFixed: 2, defaultFactor: 1 },
    wire: { minutesPerRun: 1, minutesFixed: 2, defaultFactor: 1 },
    cybersift: { minutesPerRun: 1, minutesFixed: 2, defaultFactor: 1 },
  };
  const options = parseArgs(['--stack', 'all', '--files', '0'], TARGETS);
  const minutes = estimateMinutes(options, costs);
  assert.equal(minutes.hoss, 3 + 3 * 2 + 2 * 4 * 0.75);
  assert.equal(minutes.thehive, 2 + 3);
  assert.equal(minutes.total, minutes.hoss + 3 * 5);
  assert.ok(estimateMinutes({ ...options, files: 200_000 }, costs).hoss > minutes.hoss);
  // The defaults of a full run fit the budget of about 45 minutes.
  assert.ok(estimateMinutes(parseArgs(['--stack', 'all'], TARGETS), TARGETS).total <= 45);
});

test('the writers\' wait: the steps between stopping and starting them', () => {
  const steps = [
    { label: 'pre-flight', seconds: 1 },
    { label: 'stop writers (thehive)', seconds: 3 },
    { label: 'cassandra', seconds: 2 },
    { label: 'files', seconds: 0.5 },
    { label: 'start writers', seconds: 1 },
    { label: 'write archive', seconds: 4 },
  ];
  assert.equal(freezePhaseSeconds(steps), 2.5);
  assert.equal(freezePhaseSeconds(steps.filter((s) => !s.label.startsWith('stop'))), 0);
});

test('the many-files case adds a row: peak RSS within 10 % of 1×', () => {
  const base = summarize(scaleRun(1, [10, 12, 30], [9, 10, 10]));
  const flat = summarize(scaleRun(1, [20], [10]));
  const many = { files: fillPlan(1, manyFilesShape(200_000)).files, summary: flat };
  assert.equal(many.files, 200_000);
  const rows = verdicts(base, undefined, 1, many);
  assert.equal(rows.length, 6);
  assert.equal(rows[5]!.name, 'peak RSS at 200,000 files within 10 % of 1×');
  assert.equal(rows[5]!.met, true);
  const grownRss = { ...flat, peakRssBackupBytes: flat.peakRssBackupBytes * 1.2 };
  assert.equal(verdicts(base, undefined, 1, { ...many, summary: grownRss })[5]!.met, false);
});

test('results render as one Markdown table per stack; an old HOSS-only file reads as one stack', () => {
  const base = summarize(scaleRun(1, [10, 12, 30], [9, 10, 10]));
  const grown = summarize(scaleRun(4, [50, 52, 54], [40, 40, 40]));
  const hoss: StackResult = {
    stack: 'hoss',
    floor: 'f',
    factor: 4,
    runs: 3,
    grownRuns: 1,
    verdicts: verdicts(base, grown, 4),
    summaries: [base, grown],
    scales: [scaleRun(1, [10, 12, 30], [9, 10, 10]), scaleRun(4, [50], [40])],
  };
  const wire: StackResult = { ...hoss, stack: 'wire', factor: 1, verdicts: verdicts(base, undefined, 1), summaries: [base], scales: [hoss.scales[0]!] };
  const text = renderResults({ startedAt: '2026-12-02T08:00:00.000Z', seconds: 2700, hossadm: { version: '0.1.0', commit: 'abcdef0123' }, stacks: { hoss, wire } });
  assert.match(text, /^Commit `abcdef0`, run started 2026-12-02 08:00 UTC, 45 min\./);
  assert.match(text, /\*\*HOSS\*\*: scale 1 .* and 4× .*; medians of 3 and 1 runs/);
  assert.match(text, /\| measure \| 1× \| 4× \| target \| result \|/);
  assert.match(text, /\*\*Wire\*\*: scale 1 .*; medians of 3 runs/);
  assert.match(markdownTable(wire), /^\| measure \| 1× \| target \| result \|\n\|---\|---\|---\|---\|\n\| backup vs floor \| 12\.0 s \/ 10\.0 s = 1\.20× \| ≤ 1\.3× \| met \|/);
  const old = readResults({ startedAt: 's', seconds: 60, hossadm: { version: '0.1.0', commit: 'c' }, options: { runs: 3, grownRuns: 1, factor: 4 }, floor: 'f', verdicts: hoss.verdicts, summaries: hoss.summaries, scales: hoss.scales });
  assert.deepEqual(Object.keys(old.stacks), ['hoss']);
  assert.equal(markdownTable(old.stacks.hoss!), markdownTable(hoss));
});

test('a floor restore runs each piece\'s hooks around its timed part, under its restore name', async () => {
  const calls: string[] = [];
  const piece = (name: string, restoreName?: string): FloorPiece => ({
    name,
    ...(restoreName ? { restoreName } : {}),
    backup: async () => calls.push(`${name} backup`),
    beforeRestore: async () => calls.push(`${name} before`),
    restore: async () => calls.push(`${name} restore`),
    afterRestore: async () => calls.push(`${name} after`),
  });
  const result = await floorRestore([piece('volume a'), piece('pg_dump db', 'pg_restore db')]);
  assert.deepEqual(Object.keys(result.parts), ['volume a', 'pg_restore db']);
  assert.deepEqual(calls, ['volume a before', 'volume a restore', 'volume a after', 'pg_dump db before', 'pg_dump db restore', 'pg_dump db after']);
  assert.equal(result.total, result.parts['volume a']! + result.parts['pg_restore db']!);
});
