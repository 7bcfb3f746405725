// Edits that no member checksum covers: a manifest rewritten without its
// seal (as a repack by another tar leaves it), and members in another order
// than the manifest's. Both used to verify; both are now refused.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CODECS, compressSmall } from '../../src/archive/codec.ts';
import { END_OF_ARCHIVE, buildMemberHeader, paddingFor } from '../../src/archive/tar-header.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { MTIME, SAMPLE_MEMBERS, assembleArchive, manifestFor, rejectsNaming, tempDir } from './archive-support.ts';

const [a, b, c] = SAMPLE_MEMBERS as [(typeof SAMPLE_MEMBERS)[0], (typeof SAMPLE_MEMBERS)[1], (typeof SAMPLE_MEMBERS)[2]];

for (const codec of CODECS) {
  describe(`manifest seal and member order (${codec})`, () => {
    test('a manifest whose createdAt was edited and whose seal is gone is refused', async (t) => {
      const dir = await tempDir(t);
      const manifest = JSON.parse(manifestFor([a, b]).toString()) as Record<string, unknown>;
      manifest['createdAt'] = '2020-01-01T00:00:00.000Z';
      const text = Buffer.from(JSON.stringify(manifest));
      const frames = [buildMemberHeader({ name: 'manifest.json', size: text.length, mtime: MTIME }), text, paddingFor(text.length)];
      for (const { name, data } of [a, b]) frames.push(buildMemberHeader({ name, size: data.length, mtime: MTIME }), data, paddingFor(data.length));
      frames.push(END_OF_ARCHIVE);
      const path = join(dir, `unsealed.${codec}`);
      await writeFile(path, Buffer.concat(frames.filter((f) => f.length > 0).map((f) => compressSmall(codec, f))));
      await rejectsNaming(verifyArchive(path), 'manifest.json', /carries no sha256 seal/);
    });

    test('members stored in another order than the manifest lists them are refused', async (t) => {
      const dir = await tempDir(t);
      const manifest = { name: 'manifest.json', data: manifestFor([a, b, c]) };
      const path = join(dir, `reordered.${codec}`);
      await writeFile(path, assembleArchive(codec, [manifest, a, c, b]));
      await rejectsNaming(verifyArchive(path), c.name, /out of order: manifest\.json lists volumes\/auth-secrets\.tar in its place/);
      const inOrder = join(dir, `in-order.${codec}`);
      await writeFile(inOrder, assembleArchive(codec, [manifest, a, b, c]));
      await verifyArchive(inOrder);
    });
  });
}
