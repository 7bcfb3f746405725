// The lock file: who holds it, and what a run noted it must undo (its run
// id, the containers it stopped), read back by the run that takes over.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { acquireLock, LOCK_FILE, parseLockHolder } from '../../src/core/lock.ts';
import { LockedError, PreflightError } from '../../src/errors.ts';

test('a holder record with stopped containers reads back; malformed entries are dropped', () => {
  const text = JSON.stringify({
    pid: 42, host: 'h', command: 'backup', startedAt: '2026-11-22T12:00:00Z', runId: '20261122t120000z',
    stopped: [{ id: 'abc', name: 'p-core-1', service: 'core' }, { id: 7 }, null],
  });
  assert.deepEqual(parseLockHolder(text), {
    pid: 42, host: 'h', command: 'backup', startedAt: '2026-11-22T12:00:00Z', runId: '20261122t120000z',
    stopped: [{ id: 'abc', name: 'p-core-1', service: 'core' }],
  });
});

test('text that is not a holder record is undefined', () => {
  for (const text of ['', '{', 'null', '[]', '{"pid":"1","host":"h","command":"c","startedAt":"s"}', '{"pid":0,"host":"h","command":"c","startedAt":"s"}', '{"pid":3,"host":"h"}']) {
    assert.equal(parseLockHolder(text), undefined, text);
  }
});

test('a dead holder is taken over with a warning and its notes are handed on; a live one refuses', async () => {
  const root = await mkdtemp(join(tmpdir(), 'hossadm-lock-'));
  try {
    // Linux pids never exceed 2^22, so no process has this one.
    const dead = { pid: 4194305, host: hostname(), command: 'backup', startedAt: 'earlier', runId: 'r1', stopped: [{ id: 'c1', name: 'p-core-1', service: 'core' }] };
    await writeFile(join(root, LOCK_FILE), JSON.stringify(dead));
    const warnings: string[] = [];
    const lock = await acquireLock(root, 'restore', (m) => warnings.push(m), 'r2');
    assert.deepEqual(lock.previous, dead);
    assert.match(warnings[0] ?? '', /taking over the lock of a backup run \(pid 4194305, started earlier\)/);
    await lock.recordStopped([{ id: 'c2', name: 'p-auth-1', service: 'auth' }]);
    const noted = parseLockHolder(await readFile(join(root, LOCK_FILE), 'utf8'));
    assert.equal(noted?.pid, process.pid);
    assert.equal(noted?.runId, 'r2');
    assert.deepEqual(noted?.stopped, [{ id: 'c2', name: 'p-auth-1', service: 'auth' }]);
    await assert.rejects(acquireLock(root, 'backup', () => undefined), LockedError);
    await lock.release();
    const again = await acquireLock(root, 'backup', () => undefined);
    assert.equal(again.previous, undefined);
    await again.release();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a command that does not start containers again (prune) leaves a dead holder with stopped containers in place and says who must run', async () => {
  const root = await mkdtemp(join(tmpdir(), 'hossadm-lock-'));
  try {
    const dead = { pid: 4194305, host: hostname(), command: 'backup', startedAt: 'earlier', runId: 'r1', stopped: [{ id: 'c1', name: 'p-core-1', service: 'core' }] };
    await writeFile(join(root, LOCK_FILE), JSON.stringify(dead));
    await assert.rejects(acquireLock(root, 'prune', () => undefined, undefined, false), (error: Error) => {
      assert.ok(error instanceof PreflightError);
      assert.match(error.message, /a backup run \(pid 4194305, started earlier\) was killed while core were stopped/);
      assert.match(error.hint ?? '', /run hossadm backup first/);
      return true;
    });
    assert.deepEqual(parseLockHolder(await readFile(join(root, LOCK_FILE), 'utf8')), dead, 'the note survives for the backup');
    // Nothing left stopped: prune takes the lock over like any run.
    await writeFile(join(root, LOCK_FILE), JSON.stringify({ ...dead, stopped: [] }));
    const lock = await acquireLock(root, 'prune', () => undefined, undefined, false);
    await lock.release();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('after a restart a lock is taken over even if its pid now belongs to another process; in the same boot a live pid holds it', async () => {
  const root = await mkdtemp(join(tmpdir(), 'hossadm-lock-'));
  try {
    const bootId = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    // pid 1 always exists: only the boot id can tell that the holder is gone.
    const sameBoot = { pid: 1, host: hostname(), command: 'backup', startedAt: 'earlier', bootId };
    await writeFile(join(root, LOCK_FILE), JSON.stringify(sameBoot));
    await assert.rejects(acquireLock(root, 'backup', () => undefined), LockedError);
    await writeFile(join(root, LOCK_FILE), JSON.stringify({ ...sameBoot, bootId: 'a-boot-before-the-restart' }));
    const warnings: string[] = [];
    const lock = await acquireLock(root, 'backup', (m) => warnings.push(m));
    assert.match(warnings[0] ?? '', /taking over the lock of a backup run \(pid 1, started earlier\) that no longer exists \(the host restarted since\)/);
    assert.equal(parseLockHolder(await readFile(join(root, LOCK_FILE), 'utf8'))?.bootId, bootId, 'the new holder names this boot');
    await lock.release();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
