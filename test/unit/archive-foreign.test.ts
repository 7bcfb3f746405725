// Tars that hossadm did not write: refused unless they hold exactly what a
// hossadm archive holds, and never with an unsafe name or a non-file entry.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, symlink, link, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { readArchiveMembers } from '../../src/archive/archive-reader.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { manifestFor, rejectsNaming, sampleBytes, tempDir } from './archive-support.ts';

const run = promisify(execFile);

async function gnuTar(dir: string, name: string, args: string[]): Promise<string> {
  const path = join(dir, name);
  await run('tar', ['-cf', path, '-C', join(dir, 'src'), ...args]);
  return path;
}

async function sourceFolder(dir: string): Promise<void> {
  const src = join(dir, 'src');
  await mkdir(join(src, 'sub'), { recursive: true });
  const x = { name: 'x', data: sampleBytes(1500, 1) };
  await writeFile(join(src, 'x'), x.data);
  await writeFile(join(src, 'manifest.json'), manifestFor([x]));
  await writeFile(join(src, 'a.txt'), 'a\n');
  await symlink('/etc/passwd', join(src, 'link'));
  await link(join(src, 'x'), join(src, 'hard'));
}

describe('tar files written by other tools', () => {
  test('a plain GNU tar, compressed or not, is not a hossadm archive', async (t) => {
    const dir = await tempDir(t);
    await sourceFolder(dir);
    for (const [name, flags] of [['plain.tar', []], ['plain.tar.gz', ['-z']], ['plain.tar.zst', ['--zstd']]] as const) {
      const path = await gnuTar(dir, name, [...flags, 'a.txt', 'x']);
      await rejectsNaming(verifyArchive(path), 'a.txt', /not a hossadm archive: its first member is "a.txt", not manifest.json/);
    }
    const folder = await gnuTar(dir, 'folder.tar', ['.']);
    await rejectsNaming(verifyArchive(folder), './', /not a hossadm archive/);
  });

  test('unsafe names and entries that are not regular files are refused by name', async (t) => {
    const dir = await tempDir(t);
    await sourceFolder(dir);
    const cases: Array<[string, string[], string, RegExp]> = [
      ['parent.tar', ['-P', '--transform', 's,^x$,../x,', 'manifest.json', 'x'], '../x', /unsafe member name "\.\.\/x": it contains '\.\.'/],
      ['absolute.tar', ['-P', '--transform', 's,^x$,/etc/x,', 'manifest.json', 'x'], '/etc/x', /unsafe member name "\/etc\/x": it is absolute/],
      ['symlink.tar', ['manifest.json', 'link'], 'link', /link: symbolic link entries are not allowed/],
      ['hardlink.tar', ['manifest.json', 'x', 'hard'], 'hard', /hard: hard link entries are not allowed/],
      ['directory.tar', ['manifest.json', 'sub'], 'sub/', /directory entries are not allowed/],
    ];
    // Sealed as hossadm seals its manifest, so that verify reaches the bad entry.
    const seal = createHash('sha256').update(await readFile(join(dir, 'src', 'manifest.json'))).digest('hex');
    for (const [name, args, member, message] of cases) {
      const path = await gnuTar(dir, name, ['--format=posix', `--pax-option=comment:=hossadm sha256=${seal}`, ...args]);
      await rejectsNaming(verifyArchive(path), member, message);
      // The reader alone refuses too, before handing out the entry.
      const names: string[] = [];
      await assert.rejects(async () => {
        for await (const entry of readArchiveMembers(path)) {
          names.push(entry.name);
          entry.stream.resume();
        }
      });
      assert.ok(!names.includes(member), `${member} was handed out`);
    }
  });

  test('a GNU tar holding exactly a manifest and its members is read, but refused by verify: its manifest is not sealed', async (t) => {
    const dir = await tempDir(t);
    await sourceFolder(dir);
    for (const [name, flags] of [['gnu.tar', []], ['posix.tar.zst', ['--format=posix', '--zstd']], ['gnu.tar.gz', ['-z']]] as const) {
      const path = await gnuTar(dir, name, [...flags, 'manifest.json', 'x']);
      const names: string[] = [];
      for await (const entry of readArchiveMembers(path)) {
        names.push(entry.name);
        entry.stream.resume();
      }
      assert.deepEqual(names, ['manifest.json', 'x']);
      // Repacked by hand, a manifest could say anything its members' checksums do not cover.
      await rejectsNaming(verifyArchive(path), 'manifest.json', /carries no sha256 seal/);
    }
  });
});
