// Loud on failure: webhook pings seen by a real HTTP receiver on 127.0.0.1
// around backups run by the engine on the fake stack, and the metrics file
// read back by a Prometheus text-format parser.
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import parsePrometheus, { type MetricFamily } from 'parse-prometheus-text-format';
import { backupFacts } from '../../src/cli/backup-command.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { runBackup } from '../../src/core/backup.ts';
import { writeMetricsFile } from '../../src/core/metrics-file.ts';
import { type RunIdentity, type RunReportSettings, reportRun } from '../../src/core/run-report.ts';
import { asHossError, ExitCode, OperationError, PreflightError, UsageError } from '../../src/errors.ts';
import { type FakeStack, hossStack, PASSWORD } from '../support/fake-stack.ts';
import { deadUrl, type Receiver, startReceiver } from '../support/webhook-receiver.ts';

const SECRET = 'c0ffee-5ecret-token';
const identity: RunIdentity = { command: 'backup', stack: 'server', profile: 'hoss', version: '0.1.0-test' };

async function receiver(t: TestContext, answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(answer);
  t.after(() => r.close());
  return r;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hossadm-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function reportDeps(warnings: string[], ping = { timeoutMs: 2000, retries: 1 }) {
  return { warn: (m: string) => warnings.push(m), exitCodeOf: (e: unknown) => asHossError(e).exitCode, ping };
}

/** One backup of the fake stack, reported; `at` keeps two runs' archive names apart. */
function reportedBackup(stack: FakeStack, settings: RunReportSettings, warnings: string[], at = new Date()) {
  return reportRun(settings, identity, reportDeps(warnings), async () =>
    backupFacts(await runBackup({ ...(await stack.backupDeps()), now: () => at }, { mode: 'cold', codec: 'zstd', dryRun: false })),
  );
}

test('a failed backup sends the start ping and exactly one failure ping with its exit code and one-line error, nothing secret', async (t) => {
  const hook = await receiver(t);
  const stack = await hossStack(t);
  stack.postgres.get('db')!.failDumpOf = 'hoss_auth';
  const warnings: string[] = [];
  await assert.rejects(
    reportedBackup(stack, { notifyUrl: new URL(`${hook.origin}/ping/${SECRET}`), notifySuccess: true }, warnings),
    (e: unknown) => e instanceof OperationError && /pg_dump of "hoss_auth" failed/.test(e.message),
  );
  assert.deepEqual(
    hook.pings.map((p) => `${p.method} ${p.path}`),
    [`POST /ping/${SECRET}/start`, `POST /ping/${SECRET}/fail`],
  );
  const fail = hook.pings[1]!;
  assert.equal(fail.contentType, 'application/json');
  assert.equal(fail.body.event, 'fail');
  assert.equal(fail.body.command, 'backup');
  assert.equal(fail.body.stack, 'server');
  assert.equal(fail.body.profile, 'hoss');
  assert.equal(fail.body.exitCode, ExitCode.operation);
  assert.match(String(fail.body.error), /pg_dump of "hoss_auth" failed/);
  assert.ok(!String(fail.body.error).includes('\n'), 'one line');
  assert.equal(typeof fail.body.durationSeconds, 'number');
  assert.equal(fail.body.archive, undefined, 'no archive was made');
  for (const ping of hook.pings) assert.ok(!JSON.stringify(ping.body).includes(PASSWORD), 'no credential in a ping');
  assert.deepEqual(warnings, []);
});

test('a successful backup pings only its start unless success pings are asked for; then one success ping names the archive', async (t) => {
  const hook = await receiver(t);
  const stack = await hossStack(t);
  const url = new URL(`${hook.origin}/ping/${SECRET}?create=1`);
  const warnings: string[] = [];
  await reportedBackup(stack, { notifyUrl: url, notifySuccess: false }, warnings, new Date('2026-11-30T02:30:00Z'));
  assert.deepEqual(
    hook.pings.map((p) => p.path),
    [`/ping/${SECRET}/start?create=1`],
  );

  await reportedBackup(stack, { notifyUrl: url, notifySuccess: true }, warnings, new Date('2026-12-01T02:30:00Z'));
  assert.deepEqual(
    hook.pings.map((p) => p.path),
    [`/ping/${SECRET}/start?create=1`, `/ping/${SECRET}/start?create=1`, `/ping/${SECRET}?create=1`],
  );
  const success = hook.pings[2]!.body;
  assert.equal(success.event, 'success');
  assert.equal(success.exitCode, 0);
  assert.equal(success.error, undefined);
  assert.equal(success.archive, 'hoss-backup-20261201T023000Z.tar.zst');
  const archive = join(stack.backupRoot, 'backups', String(success.archive));
  assert.equal(success.bytes, (await stat(archive)).size);
  assert.equal(success.members, 10);
  assert.equal(typeof success.downtimeSeconds, 'number');
  assert.deepEqual(warnings, []);
});

test('an unreachable webhook is a warning: the run keeps its outcome and its own error, and the token is not shown', async () => {
  const url = new URL(`${await deadUrl()}/ping/${SECRET}`);
  const failing = new PreflightError('the disk is full');
  const warnings: string[] = [];
  await assert.rejects(
    reportRun({ notifyUrl: url, notifySuccess: false }, identity, reportDeps(warnings), async () => {
      throw failing;
    }),
    (e: unknown) => e === failing,
  );
  assert.equal(warnings.length, 2, 'start and failure pings each warned once');
  assert.match(warnings[0]!, /^the start notification to http:\/\/127\.0\.0\.1:\d+\/… was not delivered \(ECONNREFUSED, 2 attempts\)$/);
  assert.match(warnings[1]!, /^the fail notification/);

  const after: string[] = [];
  await reportRun({ notifyUrl: url, notifySuccess: true }, identity, reportDeps(after), async () => ({ bytes: 1 }));
  assert.equal(after.length, 2);
  for (const w of [...warnings, ...after]) assert.ok(!w.includes(SECRET), w);
});

test('a webhook answering 500 is tried twice per ping; one that never answers times out in time', async (t) => {
  const broken = await receiver(t, (_q, r) => {
    r.statusCode = 500;
    r.end();
  });
  const warnings: string[] = [];
  await assert.rejects(
    reportRun({ notifyUrl: new URL(broken.origin), notifySuccess: false }, identity, reportDeps(warnings), async () => {
      throw new UsageError('bad flag');
    }),
    UsageError,
  );
  assert.deepEqual(
    broken.pings.map((p) => p.path),
    ['/start', '/start', '/fail', '/fail'],
  );
  assert.match(warnings[1]!, /HTTP 500, 2 attempts/);

  const silent = await receiver(t, () => undefined);
  const slow: string[] = [];
  const started = Date.now();
  await reportRun({ notifyUrl: new URL(silent.origin), notifySuccess: false }, identity, reportDeps(slow, { timeoutMs: 200, retries: 1 }), async () => undefined);
  assert.ok(Date.now() - started < 3000, 'two attempts of 200 ms, not a hang');
  assert.equal(silent.pings.length, 2);
  assert.match(slow[0]!, /no answer in time, 2 attempts/);
});

function family(families: MetricFamily[], name: string): MetricFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `${name} is in the file`);
  return found;
}

function value(families: MetricFamily[], name: string, labels: Record<string, string>): string | undefined {
  return family(families, name).metrics.find((m) => JSON.stringify(m.labels) === JSON.stringify(labels))?.value;
}

test('the metrics file parses as Prometheus text format; a failed run keeps the last success and archive, other series stay', async (t) => {
  const dir = await tempDir(t);
  const metricsFile = join(dir, 'hossadm.prom');
  const settings = { notifySuccess: false, metricsFile };
  let clock = Date.parse('2026-12-01T02:30:00Z');
  const deps = { ...reportDeps([]), now: () => clock };
  const backup = { stack: 'server', command: 'backup' };

  await reportRun(settings, identity, deps, async () => {
    clock += 42_000;
    return { archive: '/b/hoss-backup-x.tar.zst', bytes: 123456789, members: 10, downtimeSeconds: 12.5 };
  });
  await reportRun(settings, { ...identity, command: 'prune' }, deps, async () => undefined);
  const firstEnd = clock / 1000;
  clock += 86_400_000;
  await assert.rejects(
    reportRun(settings, identity, deps, async () => {
      clock += 3_000;
      throw new PreflightError('no space');
    }),
    PreflightError,
  );

  const text = await readFile(metricsFile, 'utf8');
  const families = parsePrometheus(text);
  assert.deepEqual(families.map((f) => f.name).sort(), [
    'hossadm_archive_bytes',
    'hossadm_archive_members',
    'hossadm_downtime_seconds',
    'hossadm_duration_seconds',
    'hossadm_last_exit_code',
    'hossadm_last_run_timestamp_seconds',
    'hossadm_last_success_timestamp_seconds',
  ]);
  for (const f of families) {
    assert.equal(f.type, 'GAUGE', f.name);
    assert.ok(f.help.length > 10, `${f.name} has a HELP line`);
  }
  assert.equal(value(families, 'hossadm_last_exit_code', backup), String(ExitCode.preflight));
  assert.equal(value(families, 'hossadm_last_run_timestamp_seconds', backup), String(clock / 1000));
  assert.equal(value(families, 'hossadm_last_success_timestamp_seconds', backup), String(firstEnd), 'kept from the successful run');
  assert.equal(value(families, 'hossadm_duration_seconds', backup), '3');
  assert.equal(value(families, 'hossadm_archive_bytes', backup), '123456789', 'the last archive made');
  assert.equal(value(families, 'hossadm_archive_members', backup), '10');
  assert.equal(value(families, 'hossadm_downtime_seconds', backup), '12.5');
  const prune = { stack: 'server', command: 'prune' };
  assert.equal(value(families, 'hossadm_last_exit_code', prune), '0', "the prune's series is still there");
  assert.equal(value(families, 'hossadm_last_success_timestamp_seconds', prune), String(firstEnd));
  assert.equal(value(families, 'hossadm_archive_bytes', prune), undefined, 'prune makes no archive');
  assert.equal((await stat(metricsFile)).mode & 0o777, 0o644, 'readable by node_exporter');
  assert.deepEqual(await readdir(dir), ['hossadm.prom'], 'no temporary file left');

  // A stack that never succeeded says so with 0, which an age alert catches.
  await reportRun(settings, { ...identity, stack: 'other' }, deps, async () => {
    throw new PreflightError('no');
  }).catch(() => undefined);
  assert.equal(value(parsePrometheus(await readFile(metricsFile, 'utf8')), 'hossadm_last_success_timestamp_seconds', { stack: 'other', command: 'backup' }), '0');
});

test('the metrics file is replaced whole: a reader polling it while it is rewritten never sees part of one', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'hossadm.prom');
  const run = (i: number) => ({ stack: `stack-${i % 7}`, command: 'backup', endedAt: 1_700_000_000 + i, succeeded: i % 3 !== 0, exitCode: i % 3 === 0 ? 6 : 0, durationSeconds: i, archiveBytes: i * 1000, archiveMembers: 10, downtimeSeconds: 1.5 });
  await writeMetricsFile(path, run(0));
  let writing = true;
  let reads = 0;
  const reader = (async () => {
    while (writing) {
      const text = await readFile(path, 'utf8');
      reads += 1;
      assert.ok(text.endsWith('\n') && text.includes('# TYPE hossadm_last_run_timestamp_seconds gauge'), `a whole file, not ${JSON.stringify(text.slice(0, 80))}`);
      parsePrometheus(text);
    }
  })();
  for (let i = 1; i <= 150; i += 1) await writeMetricsFile(path, run(i));
  writing = false;
  await reader;
  assert.ok(reads > 10, `the reader ran alongside (${reads} reads)`);
  assert.equal(family(parsePrometheus(await readFile(path, 'utf8')), 'hossadm_last_run_timestamp_seconds').metrics.length, 7, 'one series per stack');
  assert.deepEqual(await readdir(dir), ['hossadm.prom']);
});

test('a metrics file that cannot be written is a warning; the outcome stays', async (t) => {
  const dir = await tempDir(t);
  const warnings: string[] = [];
  const result = await reportRun({ notifySuccess: false, metricsFile: join(dir, 'gone', 'hossadm.prom') }, identity, reportDeps(warnings), async () => undefined);
  assert.equal(result, undefined);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /metrics file .*gone\/hossadm\.prom was not written \(ENOENT\)/);
});

/** The CLI on the fake stack's config folder, as cron would run it. */
async function cli(stack: FakeStack, args: string[], environment: Record<string, string> = {}) {
  const out: string[] = [];
  const program = buildProgram({ environment, stdinIsTTY: false, signal: new AbortController().signal, write: (text) => out.push(text) });
  await program.parseAsync(['node', 'hossadm', '--config-dir', stack.configDir, '--quiet', ...args]);
  return out.join('');
}

test('the CLI reads the webhook and success setting from the stack .env and pings around a prune', async (t) => {
  const hook = await receiver(t);
  const stack = await hossStack(t);
  await appendFile(join(stack.configDir, '.env'), `HOSSADM_NOTIFY_URL=${hook.origin}/${SECRET}\nHOSSADM_NOTIFY_SUCCESS=1\n`);
  await cli(stack, ['prune', '--keep-last', '3', '--yes']);
  assert.deepEqual(
    hook.pings.map((p) => `${p.path} ${p.body.event} ${p.body.command} ${p.body.stack}`),
    [`/${SECRET}/start start prune server`, `/${SECRET} success prune server`],
  );

  // The flag wins over the .env, and list does not report.
  const other = await receiver(t);
  await cli(stack, ['prune', '--keep-last', '3', '--yes', '--notify', `${other.origin}/x`]);
  await cli(stack, ['list']);
  assert.equal(other.pings.length, 2);
  assert.equal(hook.pings.length, 2);
});

test('backup --then-prune without a rule and --keep-* without --then-prune are refused before anything runs, with a failure ping', async (t) => {
  const hook = await receiver(t);
  const stack = await hossStack(t);
  const notify = ['--notify', `${hook.origin}/${SECRET}`];
  await assert.rejects(cli(stack, ['backup', '--then-prune', ...notify]), (e: unknown) => e instanceof UsageError && /at least one rule/.test(e.message));
  await assert.rejects(cli(stack, ['backup', '--keep-last', '3', ...notify]), (e: unknown) => e instanceof UsageError && /only with --then-prune/.test(e.message));
  assert.deepEqual(
    hook.pings.map((p) => `${p.body.event} ${p.body.exitCode ?? ''}`),
    ['start ', `fail ${ExitCode.usage}`, 'start ', `fail ${ExitCode.usage}`],
  );
  assert.deepEqual(stack.docker.events, [], 'the engine was not touched');
  assert.ok(!(await readdir(stack.backupRoot)).includes('backups'), 'nothing written');
});

test('a webhook that is not an http(s) URL and a metrics file not named *.prom are refused without repeating the URL', async (t) => {
  const stack = await hossStack(t);
  await assert.rejects(cli(stack, ['prune', '--keep-last', '1', '--yes', '--notify', `ftp://user:${SECRET}@example.org/x`]), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.message, '--notify is not an http:// or https:// URL');
    return true;
  });
  await assert.rejects(cli(stack, ['prune', '--keep-last', '1', '--yes'], { HOSSADM_METRICS_FILE: join(stack.root, 'hossadm.txt') }), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /^HOSSADM_METRICS_FILE in the environment: .*hossadm\.txt does not end in \.prom$/);
    return true;
  });
});
