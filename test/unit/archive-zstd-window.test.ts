// A flipped bit in a zstd frame's window byte: node's decoder, fed the whole
// file, used to decode such a frame with history left from the frame before
// and verify passed, while the zstd CLI (and so `tar --zstd`) refuses it.
// Found by the archive fuzz test.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { buildArchive, rejectsNaming, sampleBytes, tempDir } from './archive-support.ts';

// Magic number, frame header descriptor (checksum, no content size) and window byte 0x58 (2 MiB, level 3).
const DATA_FRAME = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58]);

test('a zstd frame that declares a window too small for its content is damage, named by member', async (t) => {
  const dir = await tempDir(t);
  const member = { name: 'postgres/hoss_core.dump', data: sampleBytes(9_000_000, 9) };
  const archive = await buildArchive(dir, 'zstd', [member]);
  const bytes = await readFile(archive.path);
  const first = bytes.indexOf(DATA_FRAME);
  const second = bytes.indexOf(DATA_FRAME, first + 1);
  assert.ok(first > 0 && second > first, 'the member spans several 4 MiB frames');
  for (const window of [0x48, 0x3d, 0x00]) {
    const damaged = Buffer.from(bytes);
    damaged[second + 5] = window;
    const path = join(dir, `window-${window}.tar.zst`);
    await writeFile(path, damaged);
    await rejectsNaming(verifyArchive(path), member.name, /zstd data is damaged/);
  }
  // A larger window than needed is valid zstd for every decoder: the content is intact.
  const larger = Buffer.from(bytes);
  larger[second + 5] = 0x60;
  const path = join(dir, 'window-larger.tar.zst');
  await writeFile(path, larger);
  assert.deepEqual((await verifyArchive(path)).members.map((m) => m.name), [member.name]);
});
