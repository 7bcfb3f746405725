// The bench's pure parts: how progress lines become steps, how repetitions
// become the table's figures and verdicts, and that the generated volume
// content is a tar any tar reads, the same every time. No timing is asserted.
// Run: sh scripts/node24.sh node --test bench/bench.test.ts
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { fillPlan, treeTar, ustarHeader } from './fill.ts';
import { parseSteps, stableLabel } from './measure.ts';
import type { HossadmRun } from './measure.ts';
import { median, summarize, verdicts, type Repetition, type ScaleRun } from './report.ts';

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
