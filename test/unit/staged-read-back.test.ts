// Each staged member is read back as soon as it is staged, while the next
// one is produced: a staged file the disk did not keep fails the backup
// naming the member, and the archive itself is then only re-read byte for byte.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { checkFileKept } from '../../src/archive/file-sha256.ts';
import { readBackStaged, type StagedCheck } from '../../src/archive/staged-read-back.ts';
import { stageMember } from '../../src/archive/member-writer.ts';
import { Staging } from '../../src/core/staging.ts';
import { ArchiveError } from '../../src/errors.ts';
import { tempDir } from './archive-support.ts';

const content = () => Readable.from([Buffer.alloc(3_000_000, 'a'), Buffer.from('and the end')]);

for (const codec of ['zstd', 'gzip', 'none'] as const) {
  test(`${codec}: a staged member reads back; a flipped byte, a cut or a wrong record is refused naming it`, async (t) => {
    const dir = await tempDir(t);
    const stagedPath = join(dir, 'm.staged');
    const staged = await stageMember(content(), stagedPath, codec);
    const member: StagedCheck = { name: 'volumes/x.tar', stagedPath, size: staged.size, sha256: staged.sha256 };
    await readBackStaged(member, codec);
    const isNamed = (e: unknown) => e instanceof ArchiveError && e.member === 'volumes/x.tar';
    await assert.rejects(readBackStaged({ ...member, sha256: '0'.repeat(64) }, codec), isNamed);
    const bytes = await readFile(stagedPath);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    await writeFile(stagedPath, bytes);
    await assert.rejects(readBackStaged(member, codec), isNamed);
    await truncate(stagedPath, Math.floor(bytes.length / 3));
    await assert.rejects(readBackStaged(member, codec), isNamed);
  });
}

test('staging starts each read-back when the member is staged, before the next is produced; readBack reports the first failure', async (t) => {
  const dir = await tempDir(t);
  const events: string[] = [];
  const check = async (member: StagedCheck) => {
    events.push(`read back ${member.name}`);
    if (member.name === 'b/two') throw new ArchiveError(`${member.name}: damaged`, { member: member.name });
  };
  const staging = new Staging(join(dir, '.current'), 'zstd', undefined, check);
  await staging.create();
  for (const name of ['a/one', 'b/two', 'c/three']) {
    events.push(`stage ${name}`);
    await staging.add('x', name, content());
  }
  assert.deepEqual(events, ['stage a/one', 'read back a/one', 'stage b/two', 'read back b/two', 'stage c/three', 'read back c/three']);
  await assert.rejects(staging.readBack(), (e: unknown) => e instanceof ArchiveError && e.member === 'b/two');
  await staging.remove();
});

test('a staging with real read-backs counts its members; an archive file changed after writing is refused', async (t) => {
  const dir = await tempDir(t);
  const staging = new Staging(join(dir, '.current'), 'zstd');
  await staging.create();
  await staging.add('x', 'a/one', content());
  await staging.add('x', 'b/two', content());
  assert.equal(await staging.readBack(), 2);
  const file = join(dir, 'archive');
  await writeFile(file, 'written');
  const sha256 = createHash('sha256').update('written').digest('hex');
  await checkFileKept(file, sha256);
  await writeFile(file, 'writteN');
  await assert.rejects(checkFileKept(file, sha256), ArchiveError);
  await staging.remove();
});
