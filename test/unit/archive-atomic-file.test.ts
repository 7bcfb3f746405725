import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAtomicFile, writeFileAtomically } from '../../src/archive/atomic-file.ts';
import { tempDir } from './archive-support.ts';

test('the file appears complete under its final name, mode 0600, with no partial left', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.bin');
  const result = await writeFileAtomically(path, async (handle) => {
    await handle.write(Buffer.from('content'));
    assert.equal(existsSync(path), false, 'visible before it was complete');
    return 42;
  });
  assert.equal(result, 42);
  assert.equal(await readFile(path, 'utf8'), 'content');
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(dir), ['out.bin']);
});

test('a failure while writing leaves nothing and passes the error on', async (t) => {
  const dir = await tempDir(t);
  const failure = new Error('disk on fire');
  await assert.rejects(
    writeFileAtomically(join(dir, 'out.bin'), async (handle) => {
      await handle.write(Buffer.alloc(100_000));
      throw failure;
    }),
    failure,
  );
  assert.deepEqual(await readdir(dir), []);
});

test('an existing file is kept unless overwriting is asked for', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'out.bin');
  await writeFile(path, 'old');
  await assert.rejects(writeFileAtomically(path, async (handle) => void (await handle.write(Buffer.from('new')))), { code: 'EEXIST' });
  assert.equal(await readFile(path, 'utf8'), 'old');
  assert.deepEqual(await readdir(dir), ['out.bin']);
  await writeFileAtomically(path, async (handle) => void (await handle.write(Buffer.from('new'))), { overwrite: true });
  assert.equal(await readFile(path, 'utf8'), 'new');
});

test('discard is safe after commit and twice', async (t) => {
  const dir = await tempDir(t);
  const file = await openAtomicFile(join(dir, 'a'));
  await file.handle.write(Buffer.from('a'));
  await file.commit();
  await file.discard();
  assert.equal(await readFile(join(dir, 'a'), 'utf8'), 'a');
  const other = await openAtomicFile(join(dir, 'b'));
  await other.discard();
  await other.discard();
  assert.deepEqual(await readdir(dir), ['a']);
});
