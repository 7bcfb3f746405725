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

import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { ByteSource } from './byte-source.ts';
import type { Codec } from './codec.ts';
import { paceMemory } from './memory-pacer.ts';
import { RunAhead } from './run-ahead.ts';

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
/** Frames decoded ahead of the one being read: one per further core, at most 3. */
const DECODE_AHEAD = Math.max(1, Math.min(3, availableParallelism() - 1));
/** Largest frame (compressed) held whole to be decoded ahead; hossadm's frames hold 4 MiB of content. */
const AHEAD_FRAME_BYTES = 8 * 1024 * 1024;
/** Output a frame decoded ahead may hold before its engine waits for the reader. */
const AHEAD_OUTPUT_BYTES = 6 * 1024 * 1024;
const OUTPUT_CHUNK = 128 * 1024;
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
/** windowLog 21: what libzstd declares at level 3 for content larger than that. */
const LEVEL_WINDOW = 2 * 1024 * 1024;
const GZIP_FLAG = { HCRC: 2, EXTRA: 4, NAME: 8, COMMENT: 16, RESERVED: 0xe0 } as const;
// Longest gzip file name or comment accepted; ours carry none.
const GZIP_FIELD_LIMIT = 64 * 1024;

/**
 * Decompressed bytes of `source`, which must hold nothing but complete
 * frames (zstd) or members (gzip) of `codec`, at least one.
 */
export async function* decodeFrames(source: ByteSource, codec: Codec): AsyncGenerator<Buffer> {
  for await (const chunk of decodeUnits(source, codec)) {
    paceMemory(chunk.length);
    yield chunk;
  }
}

async function* decodeUnits(source: ByteSource, codec: Codec): AsyncGenerator<Buffer> {
  if (codec === 'none') {
    for (let chunk = await source.read(FEED_BYTES); chunk !== null; chunk = await source.read(FEED_BYTES)) {
      yield chunk;
    }
    return;
  }
  if (codec === 'zstd') {
    yield* zstdFrames(source);
    return;
  }
  for (let units = 0; await unitFollows(source, codec, units); units++) yield* gunzipMember(source);
}

/** Whether another frame or member starts at the head of `source`; throws if something else does. */
async function unitFollows(source: ByteSource, codec: Exclude<Codec, 'none'>, units: number): Promise<boolean> {
  const magic = codec === 'zstd' ? ZSTD_MAGIC : GZIP_MAGIC;
  const start = await source.readUpTo(magic.length);
  if (start.length === 0) {
    if (units === 0) throw new CompressedDataError('truncated', `no ${codec} data`);
    return false;
  }
  if (!start.equals(magic.subarray(0, start.length))) throw unexpected(codec, units);
  if (start.length < magic.length) throw new CompressedDataError('truncated', `compressed data ends inside a ${codec} header`);
  source.unshift(start);
  return true;
}

/**
 * The frames of a zstd stream, decoded up to DECODE_AHEAD frames ahead of
 * the reader: frames are independent, so while the reader hashes or
 * extracts one frame's output on the main thread, the next ones decode on
 * the thread pool. A frame is decoded ahead only once all of its bytes are
 * read (hossadm writes frames of 4 MiB of content); a larger one is decoded
 * in stream, after the frames before it. Problems found ahead are thrown
 * only when the reader reaches them, so they still surface in the member
 * they belong to.
 */
async function* zstdFrames(source: ByteSource): AsyncGenerator<Buffer> {
  const ahead: RunAhead[] = [];
  try {
    for (let units = 0; ; units++) {
      let frame: CollectedFrame | undefined;
      try {
        if (!(await unitFollows(source, 'zstd', units))) break;
        frame = await collectFrame(source);
      } catch (error) {
        ahead.push(RunAhead.failed(error));
        break;
      }
      if (frame.rest) {
        while (ahead.length > 0) yield* ahead.shift()!.drain();
        yield* zstdFrame(new ByteSource(chained(frame.chunks, frame.rest)), frame.shape);
        continue;
      }
      ahead.push(new RunAhead(zstdFrame(new ByteSource(chained(frame.chunks)), frame.shape), AHEAD_OUTPUT_BYTES));
      if (ahead.length > DECODE_AHEAD) yield* ahead.shift()!.drain();
    }
    while (ahead.length > 0) yield* ahead.shift()!.drain();
  } finally {
    for (const unit of ahead) unit.cancel();
  }
}

interface CollectedFrame {
  shape: ZstdFrameShape;
  chunks: Buffer[];
  /** The frame's remaining bytes, when it is larger than AHEAD_FRAME_BYTES. */
  rest?: AsyncGenerator<Buffer, void>;
}

/** Reads the zstd frame at the head of `source`, all of it if it is at most AHEAD_FRAME_BYTES. */
async function collectFrame(source: ByteSource): Promise<CollectedFrame> {
  const shape: ZstdFrameShape = { window: undefined, complete: false };
  const bytes = zstdFrameBytes(source, shape);
  const chunks: Buffer[] = [];
  for (let held = 0; ; ) {
    const next = await bytes.next();
    if (next.done) return { shape, chunks };
    chunks.push(next.value);
    held += next.value.length;
    if (held > AHEAD_FRAME_BYTES) return { shape, chunks, rest: bytes };
  }
}

async function* chained(chunks: Buffer[], rest?: AsyncGenerator<Buffer, void>): AsyncGenerator<Buffer> {
  yield* chunks;
  if (rest) yield* rest;
}

/**
 * One zstd frame, decoded by an engine that is given exactly the frame's
 * bytes (`bytes`, from zstdFrameBytes, which fills in `frame`), so that the
 * frame's own window can be checked. Node's decoder keeps the history of an
 * earlier frame, and more history than a window needs, so it decodes a frame
 * whose matches reach further back than the window it declares; the zstd CLI
 * (and so `tar --zstd`) refuses such a frame, and a flipped bit in the window
 * byte would otherwise pass verify. libzstd declares at least
 * min(content, the level's window): 2 MiB at level 3, the only level hossadm
 * writes. So a frame holding more than a smaller window it declares is damaged.
 */
async function* zstdFrame(bytes: ByteSource, frame: ZstdFrameShape): AsyncGenerator<Buffer> {
  let decoded = 0;
  const last = yield* runEngine(bytes, zlib.createZstdDecompress({ chunkSize: OUTPUT_CHUNK }), 'zstd', (chunk) => (decoded += chunk.length));
  if (!frame.complete) throw new CompressedDataError('truncated', 'compressed data ends inside a zstd frame');
  if (!(await bytes.atEnd())) throw new CompressedDataError('damaged', 'zstd data is damaged (the frame ends before its last block)');
  if (frame.window !== undefined && decoded > frame.window && frame.window < LEVEL_WINDOW) {
    throw new CompressedDataError('damaged', `zstd data is damaged (a frame declares a ${frame.window}-byte window, too small for its ${decoded} bytes)`);
  }
  if (last) yield last;
}

interface ZstdFrameShape {
  /** The Window_Size the frame declares; undefined for a single-segment frame, whose window is its content. */
  window: number | undefined;
  /** Every byte of the frame, up to its checksum, was there. */
  complete: boolean;
}

/** The bytes of the zstd frame at the head of `source` and nothing after it (RFC 8878, 3.1.1), in chunks of about FEED_BYTES. */
async function* zstdFrameBytes(source: ByteSource, frame: ZstdFrameShape): AsyncGenerator<Buffer, void> {
  const pending = new Pending(source);
  const head = await source.readUpTo(6);
  source.unshift(head);
  if (head.length < 6) {
    await pending.take(head.length);
    yield* pending.flush(0);
    return;
  }
  const descriptor = head[4]!;
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) throw new CompressedDataError('damaged', 'zstd data is damaged (reserved bit set in a frame header)');
  if (!singleSegment) {
    const base = 2 ** (10 + (head[5]! >> 3));
    frame.window = base + (base / 8) * (head[5]! & 7);
  }
  const headerLength = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3]! + [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
  let complete = await pending.take(headerLength);
  for (let last = false; complete && !last; ) {
    const block = await source.readUpTo(3);
    source.unshift(block);
    if (!(await pending.take(3))) break;
    const value = block[0]! | (block[1]! << 8) | (block[2]! << 16);
    const type = (value >> 1) & 3;
    if (type === 3) throw new CompressedDataError('damaged', 'zstd data is damaged (a block of reserved type)');
    last = (value & 1) === 1;
    complete = await pending.take(type === 1 ? 1 : value >>> 3);
    yield* pending.flush(FEED_BYTES);
  }
  if (complete && (descriptor & 0x04) !== 0) complete = await pending.take(4);
  yield* pending.flush(0);
  frame.complete = complete;
}

/** Bytes taken from a source and passed on in batches, so the decoder gets few large writes. */
class Pending {
  readonly #source: ByteSource;
  #parts: Buffer[] = [];
  #bytes = 0;
  constructor(source: ByteSource) {
    this.#source = source;
  }

  /** Takes `count` bytes; false if the source ended first. */
  async take(count: number): Promise<boolean> {
    for (let left = count; left > 0; ) {
      const chunk = await this.#source.read(left);
      if (chunk === null) return false;
      left -= chunk.length;
      this.#parts.push(chunk);
      this.#bytes += chunk.length;
    }
    return true;
  }

  /** Passes on what was taken, once it is at least `atLeast` bytes. */
  *flush(atLeast: number): Generator<Buffer> {
    if (this.#bytes === 0 || this.#bytes < atLeast) return;
    const batch = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#bytes);
    this.#parts = [];
    this.#bytes = 0;
    yield batch;
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
