import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, utimes, writeFile, lutimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { EntryTimeTap, timesList } from '../../src/components/tree/entry-times.ts';

async function tree(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'times-'));
  const long = 'd'.repeat(150);
  await mkdir(join(root, 'a', long, 'ü'), { recursive: true });
  await writeFile(join(root, 'a', 'file'), 'x'.repeat(1000));
  await symlink('file', join(root, 'a', 'link'));
  await lutimes(join(root, 'a', 'link'), 1_500_000_003, 1_500_000_003);
  await utimes(join(root, 'a', long, 'ü'), 1_500_000_002, 1_500_000_002);
  await utimes(join(root, 'a', long), 1_500_000_001, 1_500_000_001);
  await utimes(join(root, 'a'), 1_500_000_000, 1_500_000_000);
  return root;
}

const producers: Record<string, (dir: string) => Buffer> = {
  busybox: (dir) => execFileSync('busybox', ['tar', '-c', '-f', '-', '-C', dir, '.'], { maxBuffer: 1 << 26 }),
  gnu: (dir) => execFileSync('tar', ['--format=gnu', '-c', '-f', '-', '-C', dir, '.'], { maxBuffer: 1 << 26 }),
  pax: (dir) => execFileSync('tar', ['--format=pax', '-c', '-f', '-', '-C', dir, '.'], { maxBuffer: 1 << 26 }),
};

for (const [format, produce] of Object.entries(producers)) {
  test(`folder and symlink times are read from a ${format} tar stream, whatever the chunking`, async () => {
    const bytes = produce(await tree());
    const tap = new EntryTimeTap();
    const chunks = [];
    for (let i = 0; i < bytes.length; i += 333) chunks.push(bytes.subarray(i, i + 333));
    let passed = 0;
    await pipeline(Readable.from(chunks), tap, new Writable({ write(chunk: Buffer, _e, cb) { passed += chunk.length; cb(); } }));
    assert.equal(passed, bytes.length, 'the stream passes through untouched');
    assert.equal(tap.problem, undefined);
    const byPath = new Map(tap.times.map((t) => [t.path.replace(/^\.\//, '').replace(/\/$/, ''), t.mtime]));
    assert.equal(byPath.get('a'), 1_500_000_000);
    assert.equal(byPath.get(`a/${'d'.repeat(150)}`), 1_500_000_001);
    assert.equal(byPath.get(`a/${'d'.repeat(150)}/ü`), 1_500_000_002);
    assert.equal(byPath.get('a/link'), 1_500_000_003);
    assert.ok(!byPath.has('a/file'), 'regular files keep their time through tar itself');
  });
}

test('an unparsable stream stops collection, never the data', async () => {
  const tap = new EntryTimeTap();
  const junk = Buffer.alloc(4096, 0x41);
  let passed = 0;
  await pipeline(Readable.from([junk]), tap, new Writable({ write(chunk: Buffer, _e, cb) { passed += chunk.length; cb(); } }));
  assert.equal(passed, junk.length);
  assert.ok(tap.problem);
  assert.equal(timesList([{ path: './a b', mtime: 5 }]).toString(), '5\u0000./a b\u0000');
});
