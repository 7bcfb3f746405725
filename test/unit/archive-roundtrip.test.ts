import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { readArchiveMembers, readManifest } from '../../src/archive/archive-reader.ts';
import { CODECS, type Codec } from '../../src/archive/codec.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { buildArchive, sampleBytes, sha256, tempDir, type SampleMember } from './archive-support.ts';

const run = promisify(execFile);

const MEMBERS: readonly SampleMember[] = [
  { name: 'config.tar', data: sampleBytes(12_345, 7) },
  { name: 'volumes/empty.tar', data: Buffer.alloc(0) },
  { name: `volumes/données-été-${'ü'.repeat(60)}-${'x'.repeat(80)}.tar`, data: sampleBytes(1_000, 8) },
  { name: 'postgres/globals.sql', data: Buffer.from('CREATE ROLE hoss;\n') },
  { name: 'opensearch/repository.tar', data: sampleBytes(4_096 * 3, 9) },
  // More than one default frame (4 MiB), so the parallel compressor's frame joins are read too.
  { name: 'postgres/hoss_core.dump', data: sampleBytes(9 * 1024 * 1024 + 17, 10) },
];

const TAR_FLAGS: Record<Codec, string[]> = { zstd: ['--zstd'], gzip: ['-z'], none: [] };

for (const codec of CODECS) {
  describe(`archive round trip, ${codec}`, () => {
    test('the reader returns every member byte for byte, manifest first', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec, MEMBERS);
      const seen: Array<{ name: string; size: number; sha256: string }> = [];
      for await (const member of readArchiveMembers(archive.path)) {
        const chunks: Buffer[] = [];
        for await (const chunk of member.stream) chunks.push(chunk as Buffer);
        const data = Buffer.concat(chunks);
        assert.equal(data.length, member.size);
        seen.push({ name: member.name, size: member.size, sha256: sha256(data) });
      }
      assert.equal(seen[0]?.name, 'manifest.json');
      assert.deepEqual(seen.slice(1), MEMBERS.map(({ name, data }) => ({ name, size: data.length, sha256: sha256(data) })));
    });

    test('verifyArchive accepts it and reports every member', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec, MEMBERS);
      const verified = await verifyArchive(archive.path);
      assert.deepEqual(verified.members, archive.manifest.members);
      assert.deepEqual(verified.manifest, archive.manifest);
      assert.deepEqual(JSON.parse(await readManifest(archive.path)), archive.manifest);
    });

    test('the file is 0600 and only the final name is left', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec, MEMBERS);
      assert.equal((await stat(archive.path)).mode & 0o777, 0o600);
      assert.deepEqual((await readdir(dir)).filter((name) => !name.startsWith('.')), [archive.path.slice(dir.length + 1)]);
    });

    test('GNU tar lists it and extracts the same bytes', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec, MEMBERS);
      const { stdout } = await run('tar', [...TAR_FLAGS[codec], '-tvf', archive.path]);
      const lines = stdout.trim().split('\n');
      assert.equal(lines.length, MEMBERS.length + 1);
      assert.match(lines[0]!, /^-rw------- root\/root +\d+ 2024-05-06 07:08 manifest\.json$/);
      const out = join(dir, 'extracted');
      await run('mkdir', [out]);
      await run('tar', [...TAR_FLAGS[codec], '-xf', archive.path, '-C', out]);
      for (const { name, data } of MEMBERS) assert.equal(sha256(await readFile(join(out, name))), sha256(data), name);
      assert.deepEqual(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')), archive.manifest);
    });
  });
}

test('the zstd and gzip command-line tools read the compressed archives whole', async (t) => {
  const dir = await tempDir(t);
  for (const [codec, tool] of [['zstd', 'zstd'], ['gzip', 'gzip']] as const) {
    const archive = await buildArchive(dir, codec, MEMBERS.slice(0, 3));
    await run(tool, ['-t', archive.path]);
  }
});
