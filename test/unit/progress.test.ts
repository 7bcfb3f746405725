// Progress on long copies: bytes, throughput and time left from an injected
// clock (no timing assertions), shown on a terminal or as JSON lines.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { test } from 'node:test';
import { countingStream, describeProgress, JsonLinesReporter, progressFacts, type StepHandle } from '../../src/ui/reporter.ts';

test('facts: throughput is the average since the start; time left needs a total; a passed estimate is not overdue', () => {
  assert.deepEqual(progressFacts(0, 1000, 0, 0), { bytes: 0, total: 1000, bytesPerSecond: undefined, etaSeconds: undefined });
  assert.deepEqual(progressFacts(50e6, 200e6, 0, 2000), { bytes: 50e6, total: 200e6, bytesPerSecond: 25e6, etaSeconds: 6 });
  assert.deepEqual(progressFacts(5e6, undefined, 0, 1000), { bytes: 5e6, total: undefined, bytesPerSecond: 5e6, etaSeconds: undefined });
  assert.deepEqual(progressFacts(300, 200, 0, 1000), { bytes: 300, total: 300, bytesPerSecond: 300, etaSeconds: 0 });
  assert.equal(describeProgress(progressFacts(1.2e9, 3.4e9, 0, 10_000)), '1.20 GB of ~3.40 GB (35%), 120.0 MB/s, 0:18 left');
  assert.equal(describeProgress(progressFacts(5e6, undefined, 0, 1000)), '5.0 MB, 5.0 MB/s');
  assert.equal(describeProgress(progressFacts(1e6, 1e10, 0, 1000)), '1.0 MB of ~10.00 GB (0%), 1.0 MB/s, 2:46:39 left');
});

test('--json: steps, progress and warnings as one JSON object per line, progress throttled by the clock', async () => {
  const lines: string[] = [];
  let now = 0;
  const reporter = new JsonLinesReporter(
    (line) => lines.push(line),
    () => now,
    1000,
  );
  await reporter.step(
    'volume x',
    async (handle) => {
      now = 500;
      handle.progress(10, 100);
      now = 900;
      handle.progress(20, 100); // within the interval: dropped
      now = 1600;
      handle.progress(40, 100);
    },
    () => '40 bytes',
  );
  reporter.warn('careful');
  const records = lines.map((l) => {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'), 'one line each');
    return JSON.parse(l) as Record<string, unknown>;
  });
  assert.deepEqual(
    records.map((r) => [r.event, r.status ?? r.bytes ?? r.message]),
    [
      ['step', 'started'],
      ['progress', 10],
      ['progress', 40],
      ['step', 'done'],
      ['warning', 'careful'],
    ],
  );
  assert.deepEqual(
    { ...records[2], time: undefined },
    { time: undefined, event: 'progress', step: 'volume x', bytes: 40, total: 100, bytesPerSecond: 25, etaSeconds: 2 },
  );
  assert.equal(records[3]!.summary, '40 bytes');
  assert.equal(records[3]!.seconds, 1.6);
});

test('a counted stream passes every byte through unchanged and reports the running total; errors reach the reader', async () => {
  const seen: number[] = [];
  const handle: StepHandle = { update: () => undefined, progress: (bytes) => seen.push(bytes) };
  const out = countingStream(Readable.from([Buffer.from('abc'), Buffer.from('defg')]), handle, 7);
  assert.equal(await text(out), 'abcdefg');
  assert.deepEqual(seen, [3, 7]);
  const failing = new Readable({
    read() {
      this.destroy(new Error('disk gone'));
    },
  });
  await assert.rejects(text(countingStream(failing, handle)), /disk gone/);
});
