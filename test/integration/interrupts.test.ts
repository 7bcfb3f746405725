// Interruptions in each phase of backup and restore, on the real engine:
// Ctrl-C (SIGINT) lets hossadm clean up and exit 130; SIGKILL leaves what it
// leaves (stopped writers, staging, a partial archive, helpers, a snapshot
// repository, pipes, a half-made fresh host), and the next run must clean it
// up, say so, and succeed. Every interruption is followed by an asserted
// successful run; after a restore the stack's fingerprint equals the archive's.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadContext, type StackContext } from '../../compose/driver/context.ts';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { RUN_LABEL } from '../../src/docker/types.ts';
import { LOCK_FILE, parseLockHolder, type LockHolder } from '../../src/core/lock.ts';
import { unfinishedRestoreMarker } from '../../src/core/restore-marker.ts';
import { HOSSADM, hossadm, hossadmOk, type CliRun } from './hossadm-support.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('interrupts');
const docker = new EngineClient();
const backupRoot = join(stack.hossDir, 'backup');
const backupsDir = join(backupRoot, 'backups');
const WRITERS = ['auth', 'core', 'ldap', 'rabbitmq'];
let ctx: StackContext;
let saved: string;
let good: string;

const fingerprint = () => stackOk(['fingerprint'], stack.env);
const exists = (path: string) => access(path).then(() => true, () => false);
/** Everything in backups/ that is or will be an archive, partial ones included. */
const archiveFiles = async () => (await readdir(backupsDir).catch(() => [] as string[])).filter((n) => n.startsWith('hoss-backup-')).sort();
const lockHolder = async (): Promise<LockHolder | undefined> => readFile(join(backupRoot, LOCK_FILE), 'utf8').then(parseLockHolder, () => undefined);

async function writerStates(): Promise<string[]> {
  const containers = await projectContainers(docker, stack.project);
  return containers.filter((c) => WRITERS.includes(c.service)).map((c) => `${c.service}:${c.state}`).sort();
}
const ALL_RUNNING = WRITERS.map((w) => `${w}:running`);

interface Interrupted {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs hossadm and sends `signal` to it (our own child only) once its progress on stderr matches `at`. */
async function interrupt(args: readonly string[], at: RegExp, signal: 'SIGINT' | 'SIGKILL'): Promise<Interrupted> {
  const child = spawn(process.execPath, [HOSSADM, ...args], { env: { ...process.env, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let sent = false;
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, sig) => resolve({ code, signal: sig })));
  child.stdout.resume();
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (!sent && at.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  const end = await ended;
  assert.ok(sent, `the run ended before reaching ${at}:\n${stderr}`);
  if (signal === 'SIGKILL') assert.equal(end.signal, 'SIGKILL', stderr);
  return { pid: child.pid!, ...end, stderr };
}

/** A SIGKILLed run's lock is still there, naming it; returns what it noted. */
async function deadRunsLock(killed: Interrupted): Promise<LockHolder> {
  const holder = await lockHolder();
  assert.equal(holder?.pid, killed.pid, 'the killed run still holds the lock');
  return holder!;
}

async function helpersOf(runId: string | undefined): Promise<string[]> {
  if (!runId) return [];
  return (await docker.listContainers({ labels: { [RUN_LABEL]: runId } })).map((c) => c.name);
}

/** Whatever was interrupted, the next plain run of the same command succeeds and leaves nothing behind. */
async function assertCleanAfter(run: CliRun, dead: LockHolder | undefined): Promise<void> {
  assert.equal(await lockHolder(), undefined, 'the lock is released');
  assert.equal(await exists(join(backupRoot, '.current')), false, 'no staging left');
  assert.deepEqual((await archiveFiles()).filter((n) => n.endsWith('.partial')), [], 'no partial archive left');
  assert.deepEqual(await helpersOf(dead?.runId), [], 'no helper of the interrupted run left');
  assert.deepEqual(await writerStates(), ALL_RUNNING, run.stderr);
  if (dead) assert.match(run.stderr, new RegExp(`taking over the lock of a ${dead.command} run \\(pid ${dead.pid}, `));
}

/** A backup after an interruption: succeeds, adds exactly one archive that reads back, cleans up. */
async function nextBackup(dead: LockHolder | undefined, warnings: readonly RegExp[] = []): Promise<CliRun> {
  const before = (await archiveFiles()).filter((n) => !n.endsWith('.partial'));
  const run = await hossadmOk(['backup', '--yes'], stack.env);
  const added = (await archiveFiles()).filter((n) => !before.includes(n));
  assert.equal(added.length, 1, `one new archive: ${added.join(', ')}`);
  assert.match(run.stdout, new RegExp(added[0]!.replace(/\./g, '\\.')));
  for (const warning of warnings) assert.match(run.stderr, warning);
  await assertCleanAfter(run, dead);
  return run;
}

/** A restore of the good archive after an interruption: succeeds and proves the archived fingerprint. */
async function nextRestore(dead: LockHolder | undefined, warnings: readonly RegExp[] = []): Promise<CliRun> {
  const run = await hossadmOk(['restore', '--yes', good], stack.env);
  for (const warning of warnings) assert.match(run.stderr, warning);
  await assertCleanAfter(run, dead);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
  return run;
}

/** Makes the stack differ from the archive (one more table), so a restore has something to undo. */
async function changeTheStack(name: string): Promise<string> {
  const db = (await projectContainers(docker, stack.project)).find((c) => c.service === 'db')!;
  const sql = `create table interrupt_probe_${name} as select 1 as x`;
  const result = await docker.exec(db.id, ['psql', '-v', 'ON_ERROR_STOP=1', '-U', ctx.env.POSTGRES_USER ?? 'postgres', '-d', ctx.env.POSTGRES_CORE_DB ?? 'hoss_core', '-c', sql], {
    env: { PGPASSWORD: ctx.env.POSTGRES_PASSWORD ?? '' },
  });
  assert.equal(result.exitCode, 0, result.stderr);
  const changed = await fingerprint();
  assert.notDeepEqual(changedKeys(saved, changed), []);
  return changed;
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  ctx = await loadContext(stack.hossDir);
  saved = await fingerprint();
  await hossadmOk(['backup', '--yes'], stack.env);
  good = join(backupsDir, (await archiveFiles())[0]!);
});

after(async () => {
  await runStack(['reset'], stack.env);
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('backup SIGKILLed in pre-flight: the next backup takes over the lock and succeeds', async () => {
  const killed = await interrupt(['backup', '--yes'], /… pre-flight checks/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(await writerStates(), ALL_RUNNING, 'nothing was stopped yet');
  await nextBackup(dead);
});

test('backup SIGKILLed while a per-service window has its writer stopped: the next backup starts it again, naming it and the dead run', async () => {
  const killed = await interrupt(['backup', '--yes'], /… volume .*ldap-vol0/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(dead.stopped?.map((s) => s.service), ['ldap'], 'the lock names the writer of this window only');
  assert.deepEqual(await writerStates(), ALL_RUNNING.map((s) => (s === 'ldap:running' ? 'ldap:exited' : s)), 'the earlier window\'s writer runs again; a killed run cannot start ldap');
  await nextBackup(dead, [
    new RegExp(`started \\S*ldap\\S* again: the interrupted backup run \\(pid ${killed.pid}, .*\\) had stopped them`),
    /deleted the partial backup an interrupted run left in .*\.current/,
  ]);
});

test('backup --freeze stack SIGKILLed while the writers are stopped: the next backup starts them again, naming them and the dead run', async () => {
  const killed = await interrupt(['backup', '--yes', '--freeze', 'stack'], /… volume /, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(dead.stopped?.map((s) => s.service).sort(), WRITERS, 'the lock names the stopped writers');
  assert.deepEqual(await writerStates(), WRITERS.map((w) => `${w}:exited`), 'a killed run cannot start them itself');
  assert.ok(await exists(join(backupRoot, '.current')), 'staging left behind');
  await nextBackup(dead, [
    new RegExp(`started (?=.*core)(?=.*auth)(?=.*ldap)(?=.*rabbitmq).* again: the interrupted backup run \\(pid ${killed.pid}, .*\\) had stopped them`),
    /deleted the partial backup an interrupted run left in .*\.current/,
  ]);
});

test('backup SIGKILLed after the writers started again, while the snapshot and dumps finish: its repository and folder are removed', async () => {
  // The last window (rabbitmq's): the snapshot and dumps finish after it.
  const killed = await interrupt(['backup', '--yes'], /✔ start writers \(rabbitmq\)/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(await writerStates(), ALL_RUNNING);
  await nextBackup(dead, [/removed the snapshot repository .*hossadm-.* and its folder, left by an interrupted run/]);
  const repo = await readdir(join(backupRoot, '.opensearch'));
  assert.ok(!repo.includes(`hossadm-${dead.runId}`), `snapshot folder of the dead run removed: ${repo.join(', ')}`);
});

test('backup SIGKILLed while the archive is written or read back: no half archive under a final name; the next run removes the partial file and staging', async () => {
  const before = await archiveFiles();
  const killed = await interrupt(['backup', '--yes'], /… write archive/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  const left = (await archiveFiles()).filter((n) => !before.includes(n));
  // The archive is written and read back under its .partial name and renamed only once read back
  // whole, so the kill leaves a .partial; anything under a final name must verify.
  for (const name of left.filter((n) => !n.endsWith('.partial'))) {
    const check = await hossadm(['verify', join(backupsDir, name)], stack.env);
    assert.equal(check.code, 0, `${name} under a final name must be whole: ${check.stderr}`);
  }
  // What a kill in mid-write leaves, made certain: the first half of an archive under its partial name.
  const half = 'hoss-backup-20200101T000000Z.tar.zst.partial';
  const whole = await readFile(good);
  await writeFile(join(backupsDir, half), whole.subarray(0, whole.length >> 1), { mode: 0o600 });
  const partial = [...new Set([...left.filter((n) => n.endsWith('.partial')), half])];
  const listedBefore = JSON.parse((await hossadmOk(['list', '--json'], stack.env)).stdout) as { name: string }[];
  assert.ok(listedBefore.every((r) => !r.name.endsWith('.partial')), 'a partial archive is never listed as a backup');
  const run = await nextBackup(dead, [
    /deleted the partial backup an interrupted run left in .*\.current/,
    ...partial.map((n) => new RegExp(`removed ${n.replace(/\./g, '\\.')} from .*: an unfinished archive of the interrupted backup run`)),
  ]);
  const listed = JSON.parse((await hossadmOk(['list', '--json'], stack.env)).stdout) as { name: string; problem: string | null }[];
  assert.ok(listed.every((r) => !r.name.endsWith('.partial') && r.problem === null), run.stdout);
});

test('backup interrupted by Ctrl-C in pre-flight: exit 130, lock released, nothing left; the next backup needs no clean-up', async () => {
  const before = await archiveFiles();
  const stopped = await interrupt(['backup', '--yes'], /… pre-flight checks/, 'SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /^hossadm: backup interrupted: no archive was written/m);
  assert.deepEqual(await archiveFiles(), before);
  assert.equal(await lockHolder(), undefined);
  assert.deepEqual((await readdir(join(backupRoot, '.opensearch'))).filter((n) => n.startsWith('hossadm-')), [], 'the snapshot folder the pre-flight made is gone');
  const run = await nextBackup(undefined);
  assert.doesNotMatch(run.stderr, /taking over|interrupted run/);
});

test('backup interrupted by Ctrl-C while the archive is written: exit 130, no archive at all, partial file and staging removed', async () => {
  const before = await archiveFiles();
  const stopped = await interrupt(['backup', '--yes'], /… write archive/, 'SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /^hossadm: backup interrupted: no archive was written/m);
  assert.deepEqual(await archiveFiles(), before, 'neither a partial nor an unverified archive stays');
  assert.equal(await exists(join(backupRoot, '.current')), false);
  await nextBackup(undefined);
});

test('restore SIGKILLed while it verifies the archive: nothing changed', async () => {
  const changed = await changeTheStack('verify');
  await interrupt(['restore', '--yes', good], /… verify \//, 'SIGKILL');
  assert.equal(await lockHolder(), undefined, 'the lock is taken only after the checks');
  assert.deepEqual(changedKeys(changed, await fingerprint()), []);
  assert.deepEqual(await writerStates(), ALL_RUNNING);
  await nextRestore(undefined);
});

test('restore SIGKILLed while it refills the volumes: the next restore starts the writers the dead run stopped and proves the archive', async () => {
  await changeTheStack('receive');
  const killed = await interrupt(['restore', '--yes', good], /… volume /, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(dead.stopped?.map((s) => s.service).sort(), WRITERS);
  assert.deepEqual(await writerStates(), WRITERS.map((w) => `${w}:exited`));
  // Half restored is neither the old state nor the archive's: no backup of it.
  const refused = await hossadm(['backup', '--yes'], stack.env);
  assert.equal(refused.code, 6, refused.stderr);
  assert.match(refused.stderr, /^hossadm: a restore of this stack did not finish \(in-place restore of .*hoss-backup-.*, pid \d+, .*\), so the stack holds partly restored data \(fix: run that restore again to finish it/m);
  await nextRestore(dead, [
    new RegExp(`started .* again: the interrupted restore run \\(pid ${killed.pid}, .*\\) had stopped them`),
    new RegExp(`resuming the restore that an earlier run did not finish \\(in-place restore of .*, pid ${killed.pid}, .*\\): restoring in place over the running stack`),
  ]);
});

test('restore interrupted by Ctrl-C while the databases load: exit 130, writers running, and the next restore proves the archive', async () => {
  await changeTheStack('sigint');
  const stopped = await interrupt(['restore', '--yes', good], /… postgres .*\(pg_restore\)/, 'SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /^hossadm: restore interrupted part-way: .*run the same restore again/m);
  assert.equal(await lockHolder(), undefined);
  assert.deepEqual(await writerStates(), ALL_RUNNING);
  await nextRestore(undefined);
});

test('restore SIGKILLed while the databases load: the next restore replaces the half-loaded copy and proves the archive', async () => {
  await changeTheStack('load');
  const killed = await interrupt(['restore', '--yes', good], /… postgres .*\(pg_restore\)/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.deepEqual(await writerStates(), WRITERS.map((w) => `${w}:exited`));
  await nextRestore(dead, [/started .* again: the interrupted restore run/]);
});

test('fresh-host restore SIGKILLed part-way: the same command run again resumes it and proves the archive', async () => {
  await stackOk(['reset'], stack.env);
  const killed = await interrupt(['restore', '--yes', good], /… volume /, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.ok(await exists(unfinishedRestoreMarker(stack.hossDir)), 'the marker names the unfinished restore');
  assert.ok(await exists(join(stack.hossDir, '.env')), 'the killed run had placed the .env: a plain rerun would take the host for a restored one');
  const run = await hossadmOk(['restore', '--yes', good], stack.env);
  assert.match(run.stdout, /fresh host/);
  assert.match(run.stderr, /resuming the restore that an earlier run did not finish \(fresh restore of .*hoss-backup-.*, pid \d+/);
  assert.match(run.stderr, new RegExp(`taking over the lock of a restore run \\(pid ${dead.pid}, `));
  assert.equal(await exists(unfinishedRestoreMarker(stack.hossDir)), false, 'the marker goes once the restore is loaded');
  assert.deepEqual(await helpersOf(dead.runId), []);
  await stackOk(['up'], stack.env);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
  assert.deepEqual(await writerStates(), ALL_RUNNING);
});

test('fresh-host restore SIGKILLed while it starts the stack: the rerun resumes it over what the dead run made', async () => {
  await stackOk(['reset'], stack.env);
  const killed = await interrupt(['restore', '--yes', good], /… start the stack/, 'SIGKILL');
  const dead = await deadRunsLock(killed);
  assert.ok(await exists(unfinishedRestoreMarker(stack.hossDir)), 'the marker names the unfinished restore');
  assert.ok(await exists(join(stack.hossDir, 'core', 'db-init-scripts', 'zz-hossadm-restore.sh')), 'the dead run had placed the init script and the dumps');
  const run = await hossadmOk(['restore', '--yes', good], stack.env);
  // Compose dies with the run that started it (here), so the rerun usually finds nothing running and
  // places everything again; had the stack come up, it restores in place over it.
  assert.match(run.stderr, /resuming the restore that an earlier run did not finish \(fresh restore of .*\): (placing everything again as on a fresh host|restoring in place over the running stack)/);
  await assertCleanAfter(run, dead);
  assert.equal(await exists(unfinishedRestoreMarker(stack.hossDir)), false, 'the marker goes once the restore is loaded');
  await stackOk(['up'], stack.env);
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
});
