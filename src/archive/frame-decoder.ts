// Strict decoding of a compressed archive: a sequence of zstd frames or gzip
// members, decoded one at a time with a fresh engine each.
//
// Why not one zlib stream for the whole file: node's zstd decoder ends at the
// first frame boundary that falls inside a write and silently drops the rest
// of that write (measured on Node 24.21: two concatenated frames written at
// once decode to the first frame only, and a truncated second frame raises no
// error). Node's gunzip does follow members, but decoding them one by one
// also tells exactly where each unit starts, so a damaged unit is reported
// where it sits in the tar stream and not where read-ahead happened to be.

import zlib from 'node:zlib';
import type { Transform } from 'node:stream';
import type { ByteSource } from './byte-source.ts';
import type { Codec } from './codec.ts';

/** What went wrong below the tar layer; the reader says which member it hit. */
export class CompressedDataError extends Error {
  readonly kind: 'damaged' | 'truncated' | 'unexpected';
  constructor(kind: CompressedDataError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CompressedDataError';
    this.kind = kind;
  }
}

const FEED_BYTES = 256 * 1024;
const OUTPUT_CHUNK = 128 * 1024;
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const GZIP_FLAG = { HCRC: 2, EXTRA: 4, NAME: 8, COMMENT: 16, RESERVED: 0xe0 } as const;
// Longest gzip file name or comment accepted; ours carry none.
const GZIP_FIELD_LIMIT = 64 * 1024;

/**
 * Decompressed bytes of `source`, which must hold nothing but complete
 * frames (zstd) or members (gzip) of `codec`, at least one.
 */
export async function* decodeFrames(source: ByteSource, codec: Codec): AsyncGenerator<Buffer> {
  if (codec === 'none') {
    for (let chunk = await source.read(FEED_BYTES); chunk !== null; chunk = await source.read(FEED_BYTES)) {
      yield chunk;
    }
    return;
  }
  for (let units = 0; ; units++) {
    const magic = codec === 'zstd' ? ZSTD_MAGIC : GZIP_MAGIC;
    const start = await source.readUpTo(magic.length);
    if (start.length === 0) {
      if (units === 0) throw new CompressedDataError('truncated', `no ${codec} data`);
      return;
    }
    if (!start.equals(magic.subarray(0, start.length))) throw unexpected(codec, units);
    if (start.length < magic.length) throw new CompressedDataError('truncated', `compressed data ends inside a ${codec} header`);
    source.unshift(start);
    if (codec === 'zstd') {
      const last = yield* runEngine(source, zlib.createZstdDecompress({ chunkSize: OUTPUT_CHUNK }), 'zstd');
      if (last) yield last;
    } else {
      yield* gunzipMember(source);
    }
  }
}

function unexpected(codec: Codec, units: number): CompressedDataError {
  return new CompressedDataError(
    'unexpected',
    units === 0 ? `not ${codec} data` : `data that is not a ${codec} ${codec === 'zstd' ? 'frame' : 'member'} follows`,
  );
}

async function* gunzipMember(source: ByteSource): AsyncGenerator<Buffer> {
  const header = await readExactly(source, 10, 'gzip header');
  if (header[2] !== 8) throw new CompressedDataError('damaged', 'gzip member uses an unknown compression method');
  const flags = header[3] ?? 0;
  if (flags & GZIP_FLAG.RESERVED) throw new CompressedDataError('damaged', 'gzip header has reserved flags set');
  const headerParts = [header];
  if (flags & GZIP_FLAG.EXTRA) {
    const length = await readExactly(source, 2, 'gzip header');
    headerParts.push(length, await readExactly(source, length.readUInt16LE(0), 'gzip header'));
  }
  if (flags & GZIP_FLAG.NAME) headerParts.push(await readZeroTerminated(source));
  if (flags & GZIP_FLAG.COMMENT) headerParts.push(await readZeroTerminated(source));
  if (flags & GZIP_FLAG.HCRC) {
    const stored = (await readExactly(source, 2, 'gzip header')).readUInt16LE(0);
    if (stored !== (zlib.crc32(Buffer.concat(headerParts)) & 0xffff)) {
      throw new CompressedDataError('damaged', 'gzip header checksum mismatch');
    }
  }
  let crc = 0;
  let length = 0;
  const last = yield* runEngine(source, zlib.createInflateRaw({ chunkSize: OUTPUT_CHUNK }), 'gzip', (chunk) => {
    crc = zlib.crc32(chunk, crc);
    length += chunk.length;
  });
  const trailer = await readExactly(source, 8, 'gzip trailer');
  if (trailer.readUInt32LE(0) !== crc) throw new CompressedDataError('damaged', 'gzip data checksum (CRC32) mismatch');
  if (trailer.readUInt32LE(4) !== length % 2 ** 32) throw new CompressedDataError('damaged', 'gzip length mismatch');
  if (last) yield last;
}

async function readExactly(source: ByteSource, count: number, what: string): Promise<Buffer> {
  const bytes = await source.readUpTo(count);
  if (bytes.length < count) throw new CompressedDataError('truncated', `compressed data ends inside a ${what}`);
  return bytes;
}

async function readZeroTerminated(source: ByteSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let total = 0; total < GZIP_FIELD_LIMIT; ) {
    const chunk = await source.read(GZIP_FIELD_LIMIT);
    if (chunk === null) throw new CompressedDataError('truncated', 'compressed data ends inside a gzip header');
    const zero = chunk.indexOf(0);
    if (zero >= 0) {
      source.unshift(chunk.subarray(zero + 1));
      parts.push(chunk.subarray(0, zero + 1));
      return Buffer.concat(parts);
    }
    parts.push(chunk);
    total += chunk.length;
  }
  throw new CompressedDataError('damaged', 'gzip header field is too long');
}

/**
 * Feeds `source` to a decoder until the decoder stops consuming input (its
 * frame or member ended), then hands the unread rest back to `source`.
 * Yields all output but the last chunk, which it returns instead: the caller
 * releases it once the unit's checksum is known good, so a unit cut or
 * damaged in its trailer fails while the reader is still inside the member
 * the unit belongs to.
 */
async function* runEngine(
  source: ByteSource,
  engine: Transform & { bytesWritten: number },
  label: string,
  onChunk?: (chunk: Buffer) => void,
): AsyncGenerator<Buffer, Buffer | undefined> {
  let sourceFailure: { value: unknown } | undefined;
  let inputEnded = false;
  // A destroyed Transform may never call back a write it was holding for
  // output space, so closing must also release the feeder.
  let release: (() => void) | undefined;
  engine.once('close', () => release?.());
  const feeding = (async () => {
    let fed = 0;
    for (;;) {
      const chunk = await source.read(FEED_BYTES);
      if (engine.destroyed) {
        if (chunk) source.unshift(chunk);
        return;
      }
      if (chunk === null) {
        inputEnded = true;
        engine.end();
        return;
      }
      fed += chunk.length;
      await new Promise<void>((resolve) => {
        release = resolve;
        engine.write(chunk, () => resolve());
      });
      const unused = fed - engine.bytesWritten;
      if (unused > 0 || engine.destroyed) {
        source.unshift(chunk.subarray(chunk.length - Math.max(unused, 0)));
        return;
      }
    }
  })().catch((error: unknown) => {
    sourceFailure = { value: error };
    engine.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  let held: Buffer | undefined;
  try {
    for await (const chunk of engine) {
      if (held) yield held;
      held = chunk as Buffer;
      onChunk?.(held);
    }
  } catch (error) {
    if (sourceFailure) throw sourceFailure.value;
    const reason = error instanceof Error ? error.message : String(error);
    // Any decoder error after the input ran out means the file stopped mid-frame.
    if (inputEnded) throw new CompressedDataError('truncated', `compressed data ends inside a ${label} unit (${reason})`, { cause: error });
    throw new CompressedDataError('damaged', `${label} data is damaged (${reason})`, { cause: error });
  } finally {
    engine.destroy();
    await feeding;
  }
  if (sourceFailure) throw sourceFailure.value;
  return held;
}
