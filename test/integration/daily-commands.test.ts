// list, verify, prune and check on real archives: one backup of a seeded
// reference stack, then copies of it — a corrupted one (a flipped byte), an
// unreadable one, older ones (the name carries the date), an empty folder —
// and a restore test into a throwaway copy beside the running stack that
// must leave nothing behind.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { link, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { updateEnvText } from '../../src/config/env-file.ts';
import { LOCK_FILE } from '../../src/core/lock.ts';
import { archiveStamp } from '../../src/core/manifest.ts';
import { VERIFIED_FILE } from '../../src/core/verification-record.ts';
import { HOSSADM, hossadm, hossadmOk } from './hossadm-support.ts';
import { isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('daily');
const root = dirname(stack.hossDir);
const backupsDir = join(stack.hossDir, 'backup', 'backups');
let archive: string;
let archiveBytes: number;

const HOUR = 3_600_000;
const nameAt = (msAgo: number) => `hoss-backup-${archiveStamp(new Date(Date.now() - msAgo))}.tar.zst`;

/** Another config folder for the same stack whose BACKUP_ROOT is a scratch folder: copies go there. */
async function scratch(label: string): Promise<{ env: Record<string, string>; backups: string }> {
  const dir = join(root, label);
  const backupRoot = join(dir, 'backup');
  await mkdir(join(backupRoot, 'backups'), { recursive: true });
  const envText = await readFile(join(stack.hossDir, '.env'), 'utf8');
  await writeFile(join(dir, '.env'), updateEnvText(envText, { BACKUP_ROOT: backupRoot }), { mode: 0o600 });
  return { env: { ...stack.env, HOSS_DIR: dir }, backups: join(backupRoot, 'backups') };
}

async function flippedCopy(to: string): Promise<void> {
  const bytes = await readFile(archive);
  const at = Math.floor(bytes.length * 0.6);
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(to, bytes, { mode: 0o600 });
}

/** Projects, volumes and networks a restore test could have left. */
function verifyLeftovers(): string[] {
  const names = (args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).split('\n').filter((n) => n.includes('hossadm-verify-'));
  return [
    ...names(['ps', '-a', '--format', '{{.Names}} {{.Label "com.docker.compose.project"}}']),
    ...names(['volume', 'ls', '--format', '{{.Name}}']),
    ...names(['network', 'ls', '--format', '{{.Name}}']),
  ];
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  const run = await hossadmOk(['backup', '--yes', '--json', '--quiet'], stack.env);
  archive = (JSON.parse(run.stdout) as { archive: string }).archive;
  archiveBytes = (await stat(archive)).size;
});

after(async () => {
  await runStack(['reset'], stack.env);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('list shows the archive with its date, size, stack version, components and mode; --json carries the same', async () => {
  const table = (await hossadmOk(['list'], stack.env)).stdout;
  const [header, row, footer] = table.trim().split('\n');
  assert.match(header!, /^NAME\s+DATE \(UTC\)\s+SIZE\s+STACK\s+COMPONENTS\s+MODE\s+LAST VERIFIED$/);
  assert.match(row!, new RegExp(`^${basename(archive).replace(/\./g, '\\.')}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+[\\d.]+ [kMG]?B\\s+0\\.2\\.13\\s+config,postgres,opensearch,volumes\\s+cold\\s+never$`));
  assert.equal(footer, `1 backup(s) in ${backupsDir}`);
  const rows = JSON.parse((await hossadmOk(['list', '--json'], stack.env)).stdout) as Record<string, unknown>[];
  assert.equal(rows.length, 1);
  assert.deepEqual(
    { name: rows[0]!.name, bytes: rows[0]!.bytes, stackVersion: rows[0]!.stackVersion, consistency: rows[0]!.consistency, lastVerified: rows[0]!.lastVerified, problem: rows[0]!.problem },
    { name: basename(archive), bytes: archiveBytes, stackVersion: '0.2.13', consistency: 'cold', lastVerified: null, problem: null },
  );
});

test('verify checks the archive, records the result (0600, atomic) and list shows it; check is OK', async () => {
  const run = await hossadmOk(['verify', archive], stack.env);
  assert.match(run.stdout, /is intact: 10 members, checksums match/);
  assert.match(run.stdout, /recorded \(plain\)/);
  const recordPath = join(backupsDir, VERIFIED_FILE);
  assert.equal((await stat(recordPath)).mode & 0o777, 0o600);
  const records = JSON.parse(await readFile(recordPath, 'utf8')) as Record<string, { ok: boolean; mode: string }>;
  assert.deepEqual({ ok: records[basename(archive)]!.ok, mode: records[basename(archive)]!.mode }, { ok: true, mode: 'plain' });
  assert.deepEqual((await readdir(backupsDir)).filter((n) => n.endsWith('.partial')), []);
  assert.match((await hossadmOk(['list'], stack.env)).stdout, /cold\s+ok \d{4}-\d\d-\d\d \d\d:\d\d plain\n/);
  // "latest" and a bare name find the archive in BACKUP_ROOT/backups.
  assert.match((await hossadmOk(['verify', 'latest'], stack.env)).stdout, new RegExp(basename(archive)));
  assert.match((await hossadmOk(['verify', basename(archive)], stack.env)).stdout, /is intact/);

  const check = await hossadm(['check', '--max-age', '26h'], stack.env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`^HOSSADM OK - last backup ${basename(archive).replace(/\./g, '\\.')} \\d+s ago, [\\d.]+ [kMG]?B \\| age=\\d+s;;93600;0 size=${archiveBytes}B;;;0\\n$`));
  assert.equal(check.stderr, '');
});

test('a corrupted copy fails verify (exit 7), is recorded as failed, shown in list and makes check CRITICAL until a later verification passes', async () => {
  const corrupt = join(backupsDir, nameAt(30 * HOUR));
  await flippedCopy(corrupt);
  try {
    const run = await hossadm(['verify', corrupt], stack.env);
    assert.equal(run.code, 7, run.stderr);
    assert.match(run.stderr, /hossadm: .*(sha256 mismatch|corrupt|damaged|invalid)/i);
    assert.match((await hossadmOk(['list'], stack.env)).stdout, new RegExp(`${basename(corrupt).replace(/\./g, '\\.')} .*FAILED \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d plain`));
    const check = await hossadm(['check'], stack.env);
    assert.equal(check.code, 2, check.stdout);
    assert.match(check.stdout, /^HOSSADM CRITICAL - last backup \S+ \d+s ago, .*; the last verification \(hoss-backup-\d+T\d+Z\.tar\.zst, .*\) failed: /);
    assert.equal(check.stderr, '', 'the verdict is the one stdout line');
    // The newest archive verified again: the most recent verification passed, OK again.
    await hossadmOk(['verify', archive], stack.env);
    assert.equal((await hossadm(['check'], stack.env)).code, 0);
  } finally {
    await rm(corrupt, { force: true });
  }
});

test('an unreadable newest archive is listed with its problem and makes check CRITICAL', async () => {
  const garbage = join(backupsDir, nameAt(-60_000));
  await writeFile(garbage, 'not an archive at all\n', { mode: 0o600 });
  try {
    const table = (await hossadmOk(['list'], stack.env)).stdout;
    assert.match(table, new RegExp(`^${basename(garbage).replace(/\./g, '\\.')}\\s+\\S+ \\S+\\s+22 B\\s+UNREADABLE: .+$`, 'm'));
    assert.match(table, /2 backup\(s\)/);
    const check = await hossadm(['check', '--json'], stack.env);
    assert.equal(check.code, 2);
    const verdict = JSON.parse(check.stdout) as { status: string; summary: string };
    assert.equal(verdict.status, 'CRITICAL');
    assert.match(verdict.summary, /it is unreadable: /);
  } finally {
    await rm(garbage, { force: true });
  }
});

test('check: no backup is CRITICAL, an old one CRITICAL or WARNING by threshold, an unreadable config UNKNOWN', async () => {
  const empty = await scratch('empty');
  const none = await hossadm(['check'], empty.env);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, `HOSSADM CRITICAL - no backup in ${empty.backups}\n`);
  assert.equal((await hossadmOk(['list'], empty.env)).stdout, `No backups in ${empty.backups}\n`);

  await link(archive, join(empty.backups, nameAt(30 * HOUR)));
  const old = await hossadm(['check', '--max-age', '26h'], empty.env);
  assert.equal(old.code, 2);
  assert.match(old.stdout, /^HOSSADM CRITICAL - last backup \S+ 1d 6h ago, .*; older than 1d 2h \| age=108\d{3}s;;93600;0 /);
  const warning = await hossadm(['check', '--max-age', '2d', '--warn-age', '1d'], empty.env);
  assert.equal(warning.code, 1);
  assert.match(warning.stdout, /^HOSSADM WARNING - .*older than 1d \| age=\d+s;86400;172800;0 /);

  const missing = await hossadm(['check'], { ...stack.env, HOSS_DIR: join(root, 'nowhere') });
  assert.equal(missing.code, 3);
  assert.match(missing.stdout, /^HOSSADM UNKNOWN - no stack configuration at .*nowhere\/\.env/);
  const badOption = await hossadm(['check', '--max-age', 'soon'], stack.env);
  assert.equal(badOption.code, 3);
  assert.match(badOption.stdout, /^HOSSADM UNKNOWN - --max-age takes a duration/);
  assert.equal((await hossadm(['list'], { ...stack.env, HOSS_DIR: join(root, 'nowhere') })).code, 3, 'list keeps the general exit codes');
});

test('prune keeps what any rule keeps and the newest verified archive, spares damaged ones, asks first and takes the lock', async () => {
  const s = await scratch('prune');
  // Three a day (01:00, 09:00, 17:00 UTC) on the ten days before today, as hard links (same bytes, no extra disk).
  const midnight = new Date().setUTCHours(0, 0, 0, 0);
  const names: string[] = [];
  for (let day = 1; day <= 10; day += 1) {
    for (const hour of [17, 9, 1]) {
      const name = nameAt(Date.now() - midnight + day * 24 * HOUR - hour * HOUR);
      names.push(name);
      await link(archive, join(s.backups, name));
    }
  }
  const verifiedOld = names[20]!;
  await hossadmOk(['verify', verifiedOld], s.env);
  const damaged = nameAt(12 * 24 * HOUR);
  await flippedCopy(join(s.backups, damaged));
  assert.equal((await hossadm(['verify', damaged], s.env)).code, 7);

  const rules = ['--keep-last', '2', '--keep-daily', '4'];
  const dry = JSON.parse((await hossadmOk(['prune', ...rules, '--dry-run', '--json'], s.env)).stdout) as { removed: { name: string }[]; kept: { name: string; reasons: string[] }[] };
  const kept = new Map(dry.kept.map((k) => [k.name, k.reasons]));
  // Last 2: yesterday 17h and 9h; daily 4: yesterday to 4 days ago at 17h; newest verified; damaged.
  assert.equal(dry.kept.length, 2 + 4 - 1 + 1 + 1);
  assert.deepEqual(kept.get(verifiedOld), ['newest verified']);
  assert.match(kept.get(damaged)![0]!, /damaged/);
  assert.equal(dry.removed.length, 31 - dry.kept.length);
  assert.equal((await readdir(s.backups)).filter((n) => n.startsWith('hoss-backup-')).length, 31, 'a dry run deletes nothing');
  assert.match((await hossadmOk(['prune', ...rules, '--dry-run'], s.env)).stdout, /^Would delete 24 backup\(s\), .*\(nothing was deleted\):\n {2}delete hoss-backup-/);

  const declined = await hossadm(['prune', ...rules], s.env);
  assert.equal(declined.code, 11, 'no terminal and no --yes: refused, not assumed');
  assert.equal((await readdir(s.backups)).filter((n) => n.startsWith('hoss-backup-')).length, 31);

  const lockPath = join(dirname(s.backups), LOCK_FILE);
  await writeFile(lockPath, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), command: 'backup', startedAt: new Date().toISOString() }));
  const locked = await hossadm(['prune', ...rules, '--yes'], s.env);
  assert.equal(locked.code, 9, locked.stderr);
  await rm(lockPath);
  assert.equal((await readdir(s.backups)).filter((n) => n.startsWith('hoss-backup-')).length, 31);

  const done = await hossadmOk(['prune', ...rules, '--yes'], s.env);
  assert.match(done.stdout, /^Deleted 24 backup\(s\), .* freed\.\nKeeping 7:/);
  assert.deepEqual((await readdir(s.backups)).filter((n) => n.startsWith('hoss-backup-')).sort(), [...kept.keys()].sort());
  const records = JSON.parse(await readFile(join(s.backups, VERIFIED_FILE), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(records).sort(), [damaged, verifiedOld].sort(), 'records of deleted archives are dropped');
  assert.equal((await hossadm(['prune'], s.env)).code, 2, 'no rule is a usage error');
});

test('verify --restore-test restores into a throwaway copy beside the running stack, proves it and removes it', async () => {
  const liveBefore = await stackOk(['fingerprint'], stack.env);
  const started = Date.now();
  const run = await hossadm(['verify', '--restore-test', archive], stack.env);
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  process.stderr.write(`# restore test took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  assert.match(run.stdout, /restore test: restored as project hossadm-verify-[0-9a-f]{8} .*content matches the manifest.*; copy removed/);
  assert.match(run.stderr, /prove the restore against the manifest: identical/);
  const removed = /remove the restore test's copy \(hossadm-verify-[0-9a-f]{8}\): (\d+) containers, 1 networks, (\d+) volumes and the folder/.exec(run.stderr);
  assert.ok(removed, run.stderr.slice(-2000));
  // Four named volumes, and the anonymous one the core service's image declares.
  assert.ok(Number(removed[1]) >= 6 && Number(removed[2]) >= 5, removed[0]);
  assert.deepEqual(verifyLeftovers(), []);
  assert.deepEqual(await readdir(join(stack.hossDir, 'backup', '.restore-test')), []);
  assert.equal(await stackOk(['fingerprint'], stack.env), liveBefore, 'the live stack is untouched');
  assert.match((await hossadmOk(['list'], stack.env)).stdout, /ok \d{4}-\d\d-\d\d \d\d:\d\d restore-test\n/);

  // A damaged archive fails before any copy is made.
  const corrupt = join(root, 'corrupt.tar.zst');
  await flippedCopy(corrupt);
  const bad = await hossadm(['verify', '--restore-test', corrupt], stack.env);
  assert.equal(bad.code, 7, bad.stderr);
  assert.match(bad.stdout + bad.stderr, /not recorded|sha256|corrupt|damaged/i);
  assert.deepEqual(verifyLeftovers(), []);
});

test('a restore test stopped by SIGTERM while its copy starts still removes the copy, and records nothing', async () => {
  const recordsBefore = await readFile(join(backupsDir, VERIFIED_FILE), 'utf8');
  const child = spawn(process.execPath, [HOSSADM, 'verify', '--restore-test', archive], { env: { ...process.env, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (stderr.includes('… start the stack') && child.exitCode === null && !child.killed) child.kill('SIGTERM');
  });
  const code = await new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
  assert.equal(code, 130, stderr.slice(-3000));
  assert.match(stderr, /remove the restore test's copy \(hossadm-verify-[0-9a-f]{8}\): /);
  assert.deepEqual(verifyLeftovers(), []);
  assert.deepEqual(await readdir(join(stack.hossDir, 'backup', '.restore-test')), []);
  assert.equal(await readFile(join(backupsDir, VERIFIED_FILE), 'utf8'), recordsBefore, 'an interruption says nothing about the archive');
});
