// The `check` evaluator: each state an operator's monitoring must tell apart,
// its exit code in the monitoring-plugin convention and its plugin line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateHealth, unknownHealth, type HealthFacts } from '../../src/core/health.ts';
import { formatAge, formatBytes, parseDuration } from '../../src/core/human-units.ts';
import { archiveDate } from '../../src/core/catalog.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const NAME = 'hoss-backup-20261122T090000Z.tar.zst';
const facts = (over: Partial<HealthFacts> = {}): HealthFacts => ({
  backupsDir: '/b/backups',
  newest: { name: NAME, takenAt: new Date('2026-11-22T09:00:00Z'), bytes: 5_700_000 },
  newestVerification: undefined,
  lastVerification: undefined,
  ...over,
});
const DAY = { maxAgeSeconds: 26 * 3600 };

test('a recent readable backup is OK, with age and size as performance data', () => {
  const r = evaluateHealth(facts(), DAY, NOW);
  assert.equal(r.exitCode, 0);
  assert.equal(r.line, `HOSSADM OK - last backup ${NAME} 3h ago, 5.7 MB | age=10800s;;93600;0 size=5700000B;;;0`);
});

test('no backup at all is CRITICAL', () => {
  const r = evaluateHealth(facts({ newest: undefined }), DAY, NOW);
  assert.equal(r.status, 'CRITICAL');
  assert.equal(r.exitCode, 2);
  assert.equal(r.line, 'HOSSADM CRITICAL - no backup in /b/backups');
});

test('too old is CRITICAL; between the warning and the maximum age a WARNING', () => {
  const old = facts({ newest: { name: NAME, takenAt: new Date('2026-11-21T06:00:00Z'), bytes: 10 } });
  const critical = evaluateHealth(old, DAY, NOW);
  assert.equal(critical.exitCode, 2);
  assert.match(critical.line, /^HOSSADM CRITICAL - last backup \S+ 1d 6h ago, 10 B; older than 1d 2h \| age=108000s;;93600;0/);
  const warning = evaluateHealth(old, { maxAgeSeconds: 48 * 3600, warnAgeSeconds: 24 * 3600 }, NOW);
  assert.equal(warning.exitCode, 1);
  assert.match(warning.line, /^HOSSADM WARNING - .*older than 1d \| age=108000s;86400;172800;0/);
  assert.equal(evaluateHealth(facts(), { maxAgeSeconds: 48 * 3600, warnAgeSeconds: 24 * 3600 }, NOW).exitCode, 0);
});

test('an unreadable newest archive or a failed verification is CRITICAL, however recent', () => {
  const unreadable = evaluateHealth(facts({ newest: { ...facts().newest!, problem: 'manifest.json is not valid JSON' } }), DAY, NOW);
  assert.equal(unreadable.exitCode, 2);
  assert.match(unreadable.summary, /it is unreadable: manifest.json is not valid JSON/);
  const failed = { at: '2026-11-22T10:00:00.000Z', ok: false, mode: 'plain' as const, problem: 'volumes/ldap-vol0.tar: sha256 mismatch' };
  const newestFailed = evaluateHealth(facts({ newestVerification: failed, lastVerification: { name: NAME, record: failed } }), DAY, NOW);
  assert.equal(newestFailed.exitCode, 2);
  assert.match(newestFailed.summary, /its plain verification failed on 2026-11-22T10:00:00.000Z: volumes\/ldap-vol0.tar: sha256 mismatch$/);
  const olderFailed = evaluateHealth(facts({ lastVerification: { name: 'hoss-backup-20261120T090000Z.tar.zst', record: { ...failed, mode: 'restore-test' } } }), DAY, NOW);
  assert.equal(olderFailed.exitCode, 2);
  assert.match(olderFailed.summary, /the last verification \(hoss-backup-20261120T090000Z.tar.zst, .*\) failed/);
  const passed = evaluateHealth(facts({ newestVerification: { ...failed, ok: true }, lastVerification: { name: NAME, record: { ...failed, ok: true } } }), DAY, NOW);
  assert.equal(passed.exitCode, 0);
});

test('the worst finding sets the status and is named first', () => {
  const old = { name: NAME, takenAt: new Date('2026-11-21T20:00:00Z'), bytes: 1, problem: 'truncated' };
  const r = evaluateHealth(facts({ newest: old }), { maxAgeSeconds: 26 * 3600, warnAgeSeconds: 12 * 3600 }, NOW);
  assert.equal(r.status, 'CRITICAL');
  assert.match(r.summary, /ago, 1 B; it is unreadable: truncated; older than 12h$/);
});

test('when the check cannot look, the status is UNKNOWN (exit 3)', () => {
  const r = unknownHealth('no stack configuration at /x/.env');
  assert.equal(r.exitCode, 3);
  assert.equal(r.line, 'HOSSADM UNKNOWN - no stack configuration at /x/.env');
});

test('durations parse as typed on a command line; ages and sizes print short', () => {
  assert.equal(parseDuration('26h'), 93_600);
  assert.equal(parseDuration('1d12h'), 129_600);
  assert.equal(parseDuration('90M'), 5400);
  assert.equal(parseDuration('2w'), 1_209_600);
  assert.equal(parseDuration('3600'), 3600);
  for (const bad of ['', 'h', '26 hours', '-1h', '1.5h', '26x']) assert.equal(parseDuration(bad), undefined, bad);
  assert.deepEqual([5, 600, 10_800, 11_000, 90_000, 172_800].map(formatAge), ['5s', '10m', '3h', '3h 3m', '1d 1h', '2d']);
  assert.deepEqual([999, 1500, 5_700_000, 2_345_000_000].map(formatBytes), ['999 B', '1.5 kB', '5.7 MB', '2.35 GB']);
});

test('archive names carry their UTC date; other and impossible names are not archives', () => {
  assert.equal(archiveDate('hoss-backup-20261122T092140Z.tar.zst')?.toISOString(), '2026-11-22T09:21:40.000Z');
  assert.equal(archiveDate('hoss-backup-20261122T092140Z.tar.gz')?.toISOString(), '2026-11-22T09:21:40.000Z');
  assert.equal(archiveDate('hoss-backup-20261122T092140Z.tar')?.toISOString(), '2026-11-22T09:21:40.000Z');
  for (const bad of ['hoss-backup-20260231T000000Z.tar.zst', 'hoss-backup-20261122T250000Z.tar.zst', 'hoss-backup-20261122T092140Z.tar.zst.partial', '.verified.json']) {
    assert.equal(archiveDate(bad), undefined, bad);
  }
});
