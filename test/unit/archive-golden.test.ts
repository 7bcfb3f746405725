// Archives written by an earlier hossadm (format 1, kept in fixtures/) stay
// readable, and the uncompressed layout does not drift unnoticed.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CODECS } from '../../src/archive/codec.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { goldenMembers, goldenPath, writeGolden } from '../../fixtures/archives/golden.ts';
import { tempDir } from './archive-support.ts';

for (const codec of CODECS) {
  test(`the format-1 ${codec} archive verifies, with the expected members`, async () => {
    const verified = await verifyArchive(goldenPath(codec));
    assert.equal(verified.manifest.formatVersion, 1);
    assert.deepEqual(
      verified.members,
      goldenMembers().map(({ name, data }) => ({ name, size: data.length, sha256: createHash('sha256').update(data).digest('hex') })),
    );
  });
}

test('the writer still produces the format-1 uncompressed archive byte for byte', async (t) => {
  const dir = await tempDir(t);
  const fresh = join(dir, 'fresh.tar');
  await writeGolden('none', fresh);
  assert.ok((await readFile(fresh)).equals(await readFile(goldenPath('none'))), 'layout changed: bump the format version and regenerate the golden archives');
});
