// A full disk is recognised in each shape it takes (our own ENOSPC, a
// helper's tar output, a snapshot's failure reasons) and reported as one
// line with the file system, the activity and the state; the staging side's
// ENOSPC is not hidden behind the broken pipe it causes in the producer.
import assert from 'node:assert/strict';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { test } from 'node:test';
import { snapshotProblem } from '../../src/components/search/search-backup.ts';
import { readFromContainer } from '../../src/core/fifo.ts';
import { diskFullError, NoSpaceError, noSpaceWhile, saysNoSpace } from '../../src/core/no-space.ts';
import { asHossError, ExitCode, OperationError } from '../../src/errors.ts';
import { tempDir } from './archive-support.ts';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });

test('each shape of a full disk is recognised, and nothing else is', () => {
  assert.equal(saysNoSpace(enospc()), true);
  assert.equal(saysNoSpace(Object.assign(new Error('quota'), { code: 'EDQUOT' })), true);
  assert.equal(saysNoSpace(new OperationError('restore snapshot repository: helper container exited with 1', { details: 'tar: write error: No space left on device' })), true);
  assert.equal(saysNoSpace(new Error('outer', { cause: new Error('middle', { cause: enospc() }) })), true);
  const snapshot = snapshotProblem({
    snapshot: 's', state: 'PARTIAL', indices: ['a'], shards: { total: 1, failed: 1, successful: 0 },
    failures: [{ index: 'a', shard_id: 0, reason: 'IOException[No space left on device]' }],
  });
  assert.equal(saysNoSpace(snapshot), true);
  // What OpenSearch 2 answered here to a snapshot request on a full repository disk (HTTP 500), as its client wraps it.
  const refused = Object.assign(new Error('snapshot_exception: [snapshot_exception] Reason: [exp:s1/x] failed to update snapshot in repository'), {
    meta: { statusCode: 500, body: { error: { type: 'snapshot_exception', reason: '[exp:s1/x] failed to update snapshot in repository', caused_by: { type: 'i_o_exception', reason: 'No space left on device' } }, status: 500 } },
  });
  assert.equal(saysNoSpace(new OperationError('OpenSearch PUT /_snapshot/r/s failed (HTTP 500): [exp:s1/x] failed to update snapshot in repository', { cause: refused })), true);
  assert.equal(saysNoSpace(Object.assign(new Error('x'), { meta: { body: { error: { reason: 'index_not_found' } } } })), false);
  assert.equal(saysNoSpace(new OperationError('pg_dump failed', { details: 'permission denied' })), false);
  assert.equal(saysNoSpace(Object.assign(new Error('EPIPE'), { code: 'EPIPE' })), false);
  assert.equal(saysNoSpace(undefined), false);
});

test('noSpaceWhile names the activity of a full disk and passes other failures through unchanged', async () => {
  await assert.rejects(noSpaceWhile('staging volumes/x.tar in /b/.current', () => Promise.reject(enospc())), (error: unknown) =>
    error instanceof NoSpaceError && error.activity === 'staging volumes/x.tar in /b/.current' && error.exitCode === ExitCode.operation);
  const other = new Error('something else');
  await assert.rejects(noSpaceWhile('x', () => Promise.reject(other)), (error: unknown) => error === other);
  assert.equal(await noSpaceWhile('x', async () => 42), 42);
});

test('the report names the file system, its free space, the activity, the state and the fix, with the cause in the details', async (t) => {
  const folder = await tempDir(t);
  const error = await diskFullError(new NoSpaceError('writing the archive /b/backups/a.tar.zst', enospc()), {
    command: 'backup', folder, state: 'no archive was written', hint: 'free space',
  });
  assert.equal(error.exitCode, ExitCode.operation);
  assert.match(error.message, new RegExp(`^backup failed: no space left on the file system of ${folder} \\(\\d[^)]* free now\\) while writing the archive /b/backups/a\\.tar\\.zst; no archive was written$`));
  assert.equal(error.hint, 'free space');
  assert.match(error.details ?? '', /ENOSPC/);
  const helper = await diskFullError(new OperationError('restore volume x: helper container exited with 1', { details: 'tar: write error: No space left on device' }), {
    command: 'restore', state: 'partly restored', hint: 'h',
  });
  assert.match(helper.message, /^restore failed: no space left while restore volume x: helper container exited with 1; partly restored$/);
  assert.match(helper.details ?? '', /No space left on device/);
});

test('an ENOSPC that no engine named is still one line with exit 8, not an internal error', () => {
  const error = asHossError(Object.assign(enospc(), { path: '/b/.hossadm.lock' }));
  assert.equal(error.exitCode, ExitCode.operation);
  assert.equal(error.message, 'no space left on device writing /b/.hossadm.lock');
});

test('a full disk on the reading side wins over the broken pipe it causes in the producer', async (t) => {
  const dir = await tempDir(t);
  const full = new NoSpaceError('staging volumes/x.tar in /b/.current', enospc());
  const consume = (input: Readable) =>
    new Promise<never>((_, reject) => {
      // Reads a little, then fails as a full staging disk would, closing the pipe.
      input.once('data', () => {
        input.destroy();
        reject(full);
      });
    });
  const produce = async () => {
    const pipe = await open(join(dir, 'x.tar'), 'w');
    try {
      for (;;) await pipe.write(Buffer.alloc(64 * 1024));
    } catch (error) {
      throw new OperationError('backup volume x: helper container exited with 1', { details: `tar: ${(error as Error).message}` });
    } finally {
      await pipe.close();
    }
  };
  await assert.rejects(readFromContainer({ hostDir: dir, name: 'x.tar' }, consume, produce), (error: unknown) => error === full);
});
