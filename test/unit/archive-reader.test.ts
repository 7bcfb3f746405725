// How consumers use the reader: skipping members, stopping early, reading
// only the manifest.

import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readArchiveMembers, readManifest } from '../../src/archive/archive-reader.ts';
import { CODECS } from '../../src/archive/codec.ts';
import { SAMPLE_MEMBERS, buildArchive, rejectsNaming, sha256, tempDir } from './archive-support.ts';

for (const codec of CODECS) {
  test(`${codec}: members can be skipped by not reading them, or by resume()`, async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, codec);
    const names: string[] = [];
    for await (const member of readArchiveMembers(archive.path)) {
      names.push(member.name);
      if (names.length % 2 === 0) member.stream.resume();
    }
    assert.deepEqual(names, ['manifest.json', ...SAMPLE_MEMBERS.map((m) => m.name)]);
  });

  test(`${codec}: a member read half-way, then skipped, does not disturb the next`, async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, codec);
    const last = SAMPLE_MEMBERS.at(-1)!;
    for await (const member of readArchiveMembers(archive.path)) {
      if (member.name === last.name) {
        const chunks: Buffer[] = [];
        for await (const chunk of member.stream) chunks.push(chunk as Buffer);
        assert.equal(sha256(Buffer.concat(chunks)), sha256(last.data));
      } else {
        for await (const _chunk of member.stream) break;
      }
    }
  });

  test(`${codec}: readManifest stops after member 0 (the rest may even be missing)`, async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, codec);
    const bytes = await readFile(archive.path);
    const configData = await readFile(archive.staged[0]!.stagedPath);
    // Cut the file just inside the first member's data.
    const cut = join(dir, 'cut');
    await writeFile(cut, bytes.subarray(0, bytes.indexOf(configData) + 10));
    assert.deepEqual(JSON.parse(await readManifest(cut)), archive.manifest);
    assert.deepEqual(JSON.parse(await readManifest(archive.path)), archive.manifest);
  });

  test(`${codec}: breaking out of the loop early is clean`, async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, codec);
    for await (const member of readArchiveMembers(archive.path)) {
      if (member.name === SAMPLE_MEMBERS[1]!.name) break;
      member.stream.resume();
    }
  });
}

test('an aborted read stops with the abort reason', async (t) => {
  const dir = await tempDir(t);
  const archive = await buildArchive(dir, 'zstd');
  const controller = new AbortController();
  await assert.rejects(async () => {
    for await (const member of readArchiveMembers(archive.path, { signal: controller.signal })) {
      controller.abort();
      for await (const _chunk of member.stream);
    }
  }, { exitCode: 130 });
});

test('a truncated member errors on its stream and on the iterator, naming it', async (t) => {
  const dir = await tempDir(t);
  const archive = await buildArchive(dir, 'gzip');
  const bytes = await readFile(archive.path);
  const dump = await readFile(archive.staged.at(-1)!.stagedPath);
  const cut = join(dir, 'cut.tar.gz');
  await writeFile(cut, bytes.subarray(0, bytes.indexOf(dump) + (dump.length >> 1)));
  const name = SAMPLE_MEMBERS.at(-1)!.name;
  await rejectsNaming(
    (async () => {
      for await (const member of readArchiveMembers(cut)) {
        if (member.name !== name) continue;
        await rejectsNaming((async () => { for await (const _chunk of member.stream); })(), name, /archive ends inside member/);
      }
    })(),
    name,
    /archive ends inside member/,
  );
});
