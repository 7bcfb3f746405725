// Disk full during backup and during restore (RELIABILITY items 1 and 2) on
// the real engine. BACKUP_ROOT is a tmpfs of its own, mounted before the
// stack comes up so that the containers bind-mount their dump folder and
// snapshot repository from it. The tmpfs is roomy while hossadm runs its
// free-space pre-flight; when the run's progress reaches the phase under
// test, the file system is shrunk to what it holds plus a chosen margin
// (tmpfs resizes in place), so the next write there fails with ENOSPC for
// real. Growing it again is "freeing space".
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdir, readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { HOSSADM, hossadm, hossadmOk, type CliRun } from './hossadm-support.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const run = promisify(execFile);
const stack = await isolatedStack('diskfull');
const root = dirname(stack.hossDir);
const backupRoot = join(root, 'backup-fs');
const env = { ...stack.env, BACKUP_ROOT: backupRoot };
const docker = new EngineClient();
/** Only a limit: a tmpfs takes memory for what it holds, not for its size. Room for the pre-flight's 2 × estimate + 64 MiB. */
const ROOMY = '6g';
const WRITERS = ['auth:running', 'core:running', 'ldap:running', 'rabbitmq:running'];
const secretsVolume = `${stack.project}_auth-secrets`;
let mounted = false;
let archive = '';
let archived = '';
let memberBytes: { name: string; size: number }[] = [];
/** Uncompressed bytes of the archive's members whose names start with `prefix`. */
const size = (prefix: string) => memberBytes.filter((m) => m.name.startsWith(prefix)).reduce((sum, m) => sum + m.size, 0);

const fingerprint = () => stackOk(['fingerprint'], env);
const backupsDir = join(backupRoot, 'backups');
const backupsPresent = async () => (await readdir(backupsDir)).filter((n) => !n.startsWith('.')).sort();
const locksPresent = async () => (await readdir(backupRoot)).filter((n) => n.includes('lock'));
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Shrinks BACKUP_ROOT's file system to what it holds now plus `margin` bytes. */
async function shrinkBackupRoot(margin: number): Promise<void> {
  // A run writing meanwhile can outgrow the size just read: the remount then refuses, so read again.
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const fs = await statfs(backupRoot);
    const size = Math.ceil(((fs.blocks - fs.bfree) * fs.bsize + margin) / 4096) * 4096;
    // size=0 would mean "no limit" to a tmpfs.
    if (size === 0) throw new Error('nothing to shrink to: put something on the file system first');
    if (await run('mount', ['-o', `remount,size=${size}`, backupRoot]).then(() => true, () => false)) return;
  }
  throw new Error(`could not shrink the tmpfs at ${backupRoot}`);
}

async function freeSpace(): Promise<void> {
  await run('mount', ['-o', `remount,size=${ROOMY}`, backupRoot]);
}

/** Runs the CLI and, the moment its progress on stderr matches `when`, runs `act` (once) while the CLI goes on. */
function hossadmActingAt(args: readonly string[], when: RegExp, act: () => Promise<void>): Promise<CliRun & { acted: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOSSADM, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acting: Promise<void> | undefined;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!acting && when.test(stderr)) acting = act();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      (acting ?? Promise.resolve()).then(() => resolve({ code: code ?? 1, stdout, stderr, acted: acting !== undefined }), reject);
    });
  });
}

/** The first stderr line is the one an operator acts on. */
function errorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('hossadm: ')) ?? '';
}

async function writersRunning(): Promise<string[]> {
  const containers = await projectContainers(docker, stack.project);
  return containers.filter((c) => ['core', 'ldap', 'rabbitmq', 'auth'].includes(c.service)).map((c) => `${c.service}:${c.state}`).sort();
}

/** Helper containers that mount this stack's folders or volumes (other test files may run helpers of their own meanwhile). */
async function helpersOfThisStack(): Promise<string[]> {
  const ids = (await run('docker', ['ps', '-aq', '--filter', 'label=org.hossadm.helper'])).stdout.split('\n').filter((l) => l);
  const ours: string[] = [];
  for (const id of ids) {
    const mounts = await run('docker', ['inspect', '-f', '{{range .Mounts}}{{.Source}} {{.Name}} {{end}}', id]).then((r) => r.stdout, () => '');
    if (mounts.includes(root) || mounts.includes(stack.project)) ours.push(id);
  }
  return ours;
}

/** What every failed run must leave: one line without a stack trace, no archive or partial file, no staging, writers and no helpers. */
async function assertCleanFailure(failed: CliRun, archivesBefore: string[]): Promise<void> {
  assert.equal(failed.code, 8, failed.stderr);
  assert.doesNotMatch(failed.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(await backupsPresent(), archivesBefore, 'no new archive and no .partial file');
  await assert.rejects(stat(join(backupRoot, '.current')), 'staging removed');
  assert.deepEqual(await locksPresent(), [], 'the lock released');
  assert.deepEqual(await writersRunning(), WRITERS);
  assert.deepEqual(await helpersOfThisStack(), [], 'no helper container left behind');
}

before(async () => {
  await mkdir(backupRoot, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${ROOMY},mode=0755`, 'tmpfs', backupRoot]);
  mounted = true;
  await stackOk(['up'], env);
  await stackOk(['seed'], env);
  // 24 MiB that no compressor shrinks, so the archive is clearly larger
  // than the snapshot folder a backup frees just before it writes it.
  await runHelperScript({ script: 'head -c 25165824 /dev/urandom > /s/ballast.bin', mounts: [{ source: secretsVolume, target: '/s' }], purpose: 'test ballast' });
});

after(async () => {
  await runStack(['reset'], env);
  if (mounted) await run('umount', [backupRoot]).catch(() => run('umount', ['-l', backupRoot]));
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('backup on a BACKUP_ROOT that is full already: exit 6 before anything stops, and no empty lock file left to block the next run', async (t) => {
  const filler = join(backupRoot, 'filler');
  await writeFile(filler, Buffer.alloc(64 * 1024));
  await shrinkBackupRoot(0);
  const failed = await hossadm(['backup', '--yes'], env).finally(freeSpace);
  await rm(filler);
  t.diagnostic(errorLine(failed.stderr));
  assert.equal(failed.code, 6, failed.stderr);
  assert.match(errorLine(failed.stderr), new RegExp(`^hossadm: no space left on the file system of ${escaped(backupRoot)}, not even for the lock file \\(fix: free space there or point BACKUP_ROOT at a larger disk`));
  assert.doesNotMatch(failed.stderr, /stop writers/);
  assert.deepEqual(await locksPresent(), []);
});

test('backup: BACKUP_ROOT fills up while the volumes are staged (writers stopped): exit 8 naming the file system, no archive, staging removed, writers running', async (t) => {
  // Shrunk once the free-space check has passed (the config step comes after it): 256 KiB
  // leave room for the config member and the lock's notes, not for the volumes (24 MiB of ballast among them).
  const failed = await hossadmActingAt(['backup', '--yes'], /… config /, () => shrinkBackupRoot(256 * 1024));
  assert.ok(failed.acted, failed.stderr);
  t.diagnostic(errorLine(failed.stderr));
  await freeSpace();
  const root = escaped(backupRoot);
  assert.match(errorLine(failed.stderr), new RegExp(
    // The snapshot started before the windows writes to the same disk, so the
    // disk may be full already when a window notes the services it stops.
    `^hossadm: backup failed: no space left on the file system of ${root} \\([^)]+ free now\\) while (staging \\S+ in ${root}/\\.current|noting the services it stops in ${root}/\\S+); ` +
    `no archive was written and staging was removed; the writing services run again ` +
    `\\(fix: free space in ${root} or point BACKUP_ROOT in \\S+/\\.env at a larger disk, then run the backup again\\)$`,
  ));
  assert.match(failed.stderr, /ENOSPC/, 'the cause shown is ENOSPC');
  // A window that could not note what it stops stopped nothing; one that did starts its writers again.
  if (!/ while noting /.test(errorLine(failed.stderr))) assert.match(failed.stderr, /✔ start writers/);
  assert.deepEqual((await readdir(join(backupRoot, '.opensearch'))).filter((n) => n.startsWith('hossadm-')), [], 'snapshot folder removed');
  await assertCleanFailure(failed, []);
});

test('backup: BACKUP_ROOT fills up while the archive is written: exit 8, neither the archive nor its .partial remains', async (t) => {
  const failed = await hossadmActingAt(['backup', '--yes'], /✔ opensearch repository/, () => shrinkBackupRoot(0));
  assert.ok(failed.acted, failed.stderr);
  t.diagnostic(errorLine(failed.stderr));
  await freeSpace();
  const root = escaped(backupRoot);
  assert.match(errorLine(failed.stderr), new RegExp(
    `^hossadm: backup failed: no space left on the file system of ${root} \\([^)]+ free now\\) while writing the archive ${root}/backups/hoss-backup-\\w+\\.tar\\.zst; ` +
    `no archive was written and staging was removed`,
  ));
  assert.match(failed.stderr, /✖ write archive failed/);
  await assertCleanFailure(failed, []);
});

test('backup: after space is freed the next backup succeeds', async () => {
  const done = await hossadmOk(['backup', '--yes', '--json'], env);
  const result = JSON.parse(done.stdout) as { archive: string; members: { name: string; size: number }[] };
  archive = result.archive;
  memberBytes = result.members;
  assert.deepEqual(await backupsPresent(), [archive.split('/').at(-1)]);
  await assert.rejects(stat(join(backupRoot, '.current')));
  archived = await fingerprint();
  // A change the restores below must undo.
  await runHelperScript({ script: 'rm /s/ballast.bin', mounts: [{ source: secretsVolume, target: '/s' }], purpose: 'test change volume' });
  assert.notDeepEqual(changedKeys(archived, await fingerprint()), []);
});

test('restore: BACKUP_ROOT fills up while the Postgres dumps are staged there: exit 8, nothing reported as restored, writers running', async (t) => {
  assert.ok(size('postgres/') > 256 * 1024, `the dumps (${size('postgres/')} bytes) must outgrow the margin`);
  // Room for the lock and its notes, not for the dumps.
  const failed = await hossadmActingAt(['restore', '--yes', archive], /✔ pre-flight checks/, () => shrinkBackupRoot(64 * 1024));
  assert.ok(failed.acted, failed.stderr);
  t.diagnostic(errorLine(failed.stderr));
  await freeSpace();
  const root = escaped(backupRoot);
  assert.match(errorLine(failed.stderr), new RegExp(
    `^hossadm: restore failed: no space left on the file system of ${root} \\([^)]+ free now\\) while restoring postgres/\\S+; ` +
    `the restore did not finish and the stack holds partly restored data; the writing services are started again ` +
    `\\(fix: free space in ${root} or point BACKUP_ROOT in \\S+ at a larger disk, then run the same restore again\\)$`,
  ));
  assert.match(failed.stderr, /ENOSPC/);
  assert.equal(failed.stdout, '', 'no success line');
  assert.doesNotMatch(failed.stderr, /prove the restore/);
  await assertCleanFailure(failed, [archive.split('/').at(-1)!]);
});

test('restore: BACKUP_ROOT fills up while a helper unpacks the snapshot repository there: exit 8 with tar\'s "No space left on device"', async (t) => {
  // Room for the dumps (the roles twice for a moment: raw and rewritten) and page rounding, not for the repository.
  const slack = 256 * 1024;
  const margin = size('postgres/') + size('postgres/globals.sql') + slack;
  assert.ok(size('opensearch/') > size('postgres/globals.sql') + 2 * slack, `the repository (${size('opensearch/')} bytes) must outgrow what the dumps leave free`);
  const failed = await hossadmActingAt(['restore', '--yes', archive], /✔ pre-flight checks/, () => shrinkBackupRoot(margin));
  assert.ok(failed.acted, failed.stderr);
  t.diagnostic(errorLine(failed.stderr));
  await freeSpace();
  assert.match(errorLine(failed.stderr), /^hossadm: restore failed: no space left on the file system of \S+ \([^)]+ free now\) while restoring opensearch\/repository\.tar; the restore did not finish and the stack holds partly restored data/);
  assert.match(failed.stderr, /No space left on device/, 'the helper\'s own words are shown');
  assert.equal(failed.stdout, '');
  await assertCleanFailure(failed, [archive.split('/').at(-1)!]);
});

test('restore: after space is freed the same restore succeeds and the stack equals the archive', async () => {
  const done = await hossadmOk(['restore', '--yes', archive], env);
  assert.match(done.stdout, /^Restored /);
  assert.deepEqual(changedKeys(archived, await fingerprint()), []);
  assert.deepEqual(await writersRunning(), WRITERS);
});
