import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Header } from 'tar/header';
import { Pax } from 'tar/pax';
import { memberNameProblem } from '../../src/archive/member-name.ts';
import { BLOCK_SIZE, END_OF_ARCHIVE, HeaderError, buildMemberHeader, paddingFor, parseHeader, parsePaxData, sha256FromComment } from '../../src/archive/tar-header.ts';
import { tempDir } from './archive-support.ts';

const run = promisify(execFile);
const mtime = new Date('2024-05-06T07:08:09.750Z');

describe('tar headers', () => {
  test('a short ASCII name is one ustar block with the fixed owner and mode', () => {
    const block = buildMemberHeader({ name: 'postgres/globals.sql', size: 1234, mtime });
    assert.equal(block.length, BLOCK_SIZE);
    assert.deepEqual(parseHeader(block), {
      name: 'postgres/globals.sql',
      size: 1234,
      type: '0',
      mode: 0o600,
      uid: 0,
      gid: 0,
      mtime: Math.floor(mtime.getTime() / 1000),
      linkname: '',
    });
    assert.equal(block.toString('latin1', 257, 265), 'ustar\u000000');
    assert.equal(block.toString('latin1', 265, 269), 'root');
  });

  test('a long or non-ASCII name travels in a PAX record, with an ASCII stand-in', () => {
    const name = `volumes/été-${'ü'.repeat(50)}-${'long'.repeat(30)}.tar`;
    const blocks = buildMemberHeader({ name, size: 5, mtime });
    assert.equal(blocks.length % BLOCK_SIZE, 0);
    const pax = parseHeader(blocks.subarray(0, BLOCK_SIZE));
    assert.equal(pax.type, 'x');
    assert.equal(parsePaxData(blocks.subarray(BLOCK_SIZE, BLOCK_SIZE + pax.size)).get('path'), name);
    const main = parseHeader(blocks.subarray(blocks.length - BLOCK_SIZE));
    assert.equal(main.type, '0');
    assert.match(main.name, /^volumes\/_t_-_+-long/);
    assert.equal(main.name.length, 100);
  });

  test('PAX record lengths are right where the length gains a digit', () => {
    // "<length> path=<value>\n" around 99/100 and 999/1000 bytes in total; 'é' forces a PAX record.
    for (const valueBytes of [88, 89, 90, 91, 92, 93, 988, 989, 990, 991, 992, 993, 994]) {
      const name = `é/${'n'.repeat(valueBytes - 3)}`;
      const blocks = buildMemberHeader({ name, size: 0, mtime });
      const pax = parseHeader(blocks.subarray(0, BLOCK_SIZE));
      assert.equal(parsePaxData(blocks.subarray(BLOCK_SIZE, BLOCK_SIZE + pax.size)).get('path'), name);
    }
  });

  test('sizes past the 11 octal digits of ustar go in a PAX size record', () => {
    const size = 8 ** 11 + 5;
    const blocks = buildMemberHeader({ name: 'volumes/huge.tar', size, mtime });
    const pax = parseHeader(blocks.subarray(0, BLOCK_SIZE));
    assert.equal(parsePaxData(blocks.subarray(BLOCK_SIZE, BLOCK_SIZE + pax.size)).get('size'), String(size));
    assert.equal(parseHeader(blocks.subarray(blocks.length - BLOCK_SIZE)).size, 0);
  });

  test('a declared sha256 rides in a PAX comment', () => {
    const sha = 'ab'.repeat(32);
    const blocks = buildMemberHeader({ name: 'manifest.json', size: 10, mtime, sha256: sha });
    const pax = parseHeader(blocks.subarray(0, BLOCK_SIZE));
    assert.equal(sha256FromComment(parsePaxData(blocks.subarray(BLOCK_SIZE, BLOCK_SIZE + pax.size)).get('comment')), sha);
    assert.equal(sha256FromComment('something else'), undefined);
  });

  test('GNU tar reads our headers: names, sizes, modes, owners, times', async (t) => {
    const dir = await tempDir(t);
    const members = [
      { name: 'a.txt', data: Buffer.from('hello') },
      { name: `b/${'ß'.repeat(70)}.bin`, data: Buffer.alloc(513, 1) },
    ];
    const parts = members.flatMap(({ name, data }) => [buildMemberHeader({ name, size: data.length, mtime }), data, paddingFor(data.length)]);
    const path = join(dir, 't.tar');
    await writeFile(path, Buffer.concat([...parts, END_OF_ARCHIVE]));
    const { stdout, stderr } = await run('tar', ['--utc', '--full-time', '-tvf', path]);
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trim().split('\n'), [
      '-rw------- root/root         5 2024-05-06 07:08:09 a.txt',
      `-rw------- root/root       513 2024-05-06 07:08:09 b/${'ß'.repeat(70)}.bin`,
    ]);
  });

  test("node-tar's own Header and Pax read our headers alike", () => {
    const name = `volumes/été-${'ü'.repeat(50)}.tar`;
    const blocks = buildMemberHeader({ name, size: 513, mtime, sha256: 'cd'.repeat(32) });
    const paxHeader = new Header(blocks.subarray(0, BLOCK_SIZE));
    assert.equal(paxHeader.cksumValid, true);
    assert.equal(paxHeader.type, 'ExtendedHeader');
    const pax = Pax.parse(blocks.subarray(BLOCK_SIZE, BLOCK_SIZE + paxHeader.size!).toString('utf8'));
    const main = new Header(blocks.subarray(blocks.length - BLOCK_SIZE), 0, pax);
    assert.equal(main.cksumValid, true);
    assert.deepEqual(
      { path: main.path, size: main.size, type: main.type, mode: main.mode, uid: main.uid, gid: main.gid, uname: main.uname, gname: main.gname, mtime: main.mtime?.getTime() },
      { path: name, size: 513, type: 'File', mode: 0o600, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: Math.floor(mtime.getTime() / 1000) * 1000 },
    );
    assert.equal(sha256FromComment(main.comment), 'cd'.repeat(32));
  });

  test('damage is detected: checksum, magic, numbers', () => {
    const block = buildMemberHeader({ name: 'config.tar', size: 1, mtime });
    for (const [offset, problem] of [[3, /checksum/], [130, /checksum/]] as const) {
      const copy = Buffer.from(block);
      copy[offset] = copy[offset]! ^ 1;
      assert.throws(() => parseHeader(copy), (error: unknown) => error instanceof HeaderError && problem.test(error.message));
    }
    assert.throws(() => parseHeader(block.subarray(0, 100)), HeaderError);
    assert.equal(parsePaxData(Buffer.from('12 path=abc\n')).get('path'), 'abc');
    assert.throws(() => parsePaxData(Buffer.from('13 path=abc\n')), /malformed/);
    assert.throws(() => parsePaxData(Buffer.from('99 path=abc\n')), /malformed/);
    assert.throws(() => parsePaxData(Buffer.from('x path=abc\n')), /malformed/);
  });
});

describe('member names', () => {
  test('safe relative names pass', () => {
    for (const name of ['config.tar', 'volumes/auth-secrets.tar', 'postgres/hoss_core.dump', 'a/b/c', 'été/ü.tar', '..hidden', 'a..b']) {
      assert.equal(memberNameProblem(name), undefined, name);
    }
  });

  test('unsafe names are refused with the reason', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty/],
      ['/etc/passwd', /absolute/],
      ['../x', /'\.\.'/],
      ['a/../../x', /'\.\.'/],
      ['a/..', /'\.\.'/],
      ['a\\b', /backslash/],
      ['a\u0000b', /control/],
      ['a\nb', /control/],
      ['a//b', /empty or "\."/],
      ['./a', /empty or "\."/],
      ['a/', /empty or "\."/],
      ['\ud800x', /Unicode/],
      ['x'.repeat(5000), /too long/],
    ];
    for (const [name, reason] of cases) assert.match(memberNameProblem(name) ?? 'accepted', reason, JSON.stringify(name));
  });
});
