import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { ArchiveError } from '../../src/errors.ts';
import { createCompressor, createDecompressor, detectCodec, sniffCodec, type Codec } from '../../src/archive/codec.ts';
import { sampleBytes, sha256, tempDir } from './archive-support.ts';

const run = promisify(execFile);

async function through(input: Buffer, ...transforms: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(input.length / 100_000) }, (_, i) => input.subarray(i * 100_000, (i + 1) * 100_000));
  await pipeline(Readable.from(pieces), ...(transforms as [NodeJS.ReadWriteStream]), new Writable({ write: (c: Buffer, _e, done) => (chunks.push(c), done()) }));
  return Buffer.concat(chunks);
}

describe('codecs', () => {
  const data = sampleBytes(3 * 1024 * 1024 + 11, 42);
  for (const codec of ['zstd', 'gzip'] as const) {
    for (const threads of [1, 2, 3]) {
      test(`${codec}, ${threads} thread(s): compresses to a stream every decoder reads back`, async (t) => {
        const compressed = await through(data, createCompressor(codec, { threads, frameSize: 256 * 1024 }));
        assert.ok(compressed.length < data.length);
        assert.equal(sniffCodec(compressed), codec);
        assert.equal(sha256(await through(compressed, createDecompressor(codec))), sha256(data));
        const dir = await tempDir(t);
        const path = join(dir, `x.${codec}`);
        await writeFile(path, compressed);
        const { stdout } = await run(codec, ['-dc', path], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
        assert.equal(sha256(stdout), sha256(data));
      });
    }

    test(`${codec}: empty input gives a valid, empty stream`, async () => {
      for (const threads of [1, 2]) {
        const compressed = await through(Buffer.alloc(0), createCompressor(codec, { threads }));
        assert.ok(compressed.length > 0);
        assert.equal((await through(compressed, createDecompressor(codec))).length, 0);
      }
    });

    test(`${codec}: the decompressor reads every concatenated frame, and refuses truncation and trailing bytes`, async () => {
      const one = codec === 'zstd' ? (b: Buffer) => zlib.zstdCompressSync(b) : (b: Buffer) => zlib.gzipSync(b);
      const frames = Buffer.concat([one(Buffer.from('first ')), one(Buffer.from('second ')), one(Buffer.from('third'))]);
      assert.equal((await through(frames, createDecompressor(codec))).toString(), 'first second third');
      await assert.rejects(through(frames.subarray(0, frames.length - 3), createDecompressor(codec)), /ends inside|truncated/);
      await assert.rejects(through(Buffer.concat([frames, Buffer.from('junk')]), createDecompressor(codec)), /not a/);
    });
  }

  test('none passes bytes through', async () => {
    assert.equal(sha256(await through(data, createCompressor('none'), createDecompressor('none'))), sha256(data));
  });
});

describe('codec detection', () => {
  test('from magic numbers; anything else is not an archive', async (t) => {
    const dir = await tempDir(t);
    const tar = Buffer.alloc(512);
    tar.write('ustar', 257, 'latin1');
    const cases: Array<[Buffer, Codec]> = [
      [zlib.zstdCompressSync(Buffer.from('x')), 'zstd'],
      [zlib.gzipSync(Buffer.from('x')), 'gzip'],
      [tar, 'none'],
    ];
    for (const [bytes, codec] of cases) {
      const path = join(dir, codec);
      await writeFile(path, bytes);
      assert.equal(await detectCodec(path), codec);
    }
    for (const [bytes, message] of [[Buffer.alloc(0), /is empty/], [Buffer.from('PK\u0003\u0004 a zip file'), /not a hossadm archive/]] as const) {
      const path = join(dir, 'other');
      await writeFile(path, bytes);
      await assert.rejects(detectCodec(path), (error: unknown) => error instanceof ArchiveError && message.test(error.message));
    }
  });
});
