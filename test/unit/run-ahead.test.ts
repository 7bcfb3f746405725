// Frames decoded ahead of the reader come out in order, hold at most their
// limit before the decoder waits, surface their errors only where the reader
// reaches them, and release the decoder when the reader goes away.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { ByteSource } from '../../src/archive/byte-source.ts';
import { decodeFrames } from '../../src/archive/frame-decoder.ts';
import { RunAhead } from '../../src/archive/run-ahead.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of source) parts.push(chunk);
  return Buffer.concat(parts);
}

test('a unit run ahead pulls until its limit, then waits for the reader', async () => {
  let pulled = 0;
  let finished = false;
  async function* source() {
    try {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield Buffer.alloc(1000, i);
      }
    } finally {
      finished = true;
    }
  }
  const unit = new RunAhead(source(), 10_000);
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(pulled, 10, 'ten 1000-byte chunks reach the 10,000-byte limit, then the source waits');
  const out = await collect(unit.drain());
  assert.equal(out.length, 100_000);
  assert.equal(out[99_999], 99, 'in order');
  assert.equal(finished, true);
});

test('an error is thrown after everything the source yielded before it', async () => {
  const unit = new RunAhead(
    (async function* () {
      yield Buffer.from('abc');
      throw new Error('damaged');
    })(),
    1 << 20,
  );
  for (let i = 0; i < 5; i++) await tick();
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of unit.drain()) seen.push(chunk.toString());
    })(),
    /damaged/,
  );
  assert.deepEqual(seen, ['abc']);
  await assert.rejects(collect(RunAhead.failed(new Error('cut')).drain()), /cut/);
});

test('cancelling releases the source', async () => {
  let released = false;
  const unit = new RunAhead(
    (async function* () {
      try {
        for (;;) yield Buffer.alloc(4096);
      } finally {
        released = true;
      }
    })(),
    8192,
  );
  await tick();
  unit.cancel();
  for (let i = 0; i < 5 && !released; i++) await tick();
  assert.equal(released, true);
});

test('many zstd frames decode ahead to the same bytes, and damage in a later frame fails after the earlier frames are out', async () => {
  const frames: Buffer[] = [];
  const plain: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const content = Buffer.alloc(300_000 + i * 1000, i + 1);
    plain.push(content);
    frames.push(zlib.zstdCompressSync(content, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } }));
  }
  const whole = Buffer.concat(frames);
  const chunked = (data: Buffer) => new ByteSource((async function* () {
    for (let at = 0; at < data.length; at += 65_536) yield data.subarray(at, at + 65_536);
  })());
  assert.ok((await collect(decodeFrames(chunked(whole), 'zstd'))).equals(Buffer.concat(plain)));

  const damaged = Buffer.from(whole);
  const ninth = frames.slice(0, 8).reduce((sum, f) => sum + f.length, 0);
  damaged[ninth + frames[8]!.length - 2]! ^= 0xff; // inside the ninth frame's checksum
  let out = 0;
  await assert.rejects(
    (async () => {
      for await (const chunk of decodeFrames(chunked(damaged), 'zstd')) out += chunk.length;
    })(),
    (error: Error) => error.name === 'CompressedDataError',
  );
  const before = plain.slice(0, 8).reduce((sum, p) => sum + p.length, 0);
  assert.ok(out >= before, `all ${before} bytes of the eight good frames came out before the error (got ${out})`);
  assert.ok(out < before + plain[8]!.length, 'the damaged frame is not passed on whole');
});
