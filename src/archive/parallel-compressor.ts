// Compression on several cores for a single stream: the input is cut into
// independent frames (zstd) or members (gzip) that are compressed at the same
// time, one per lane, and written out in input order. Decoders read
// concatenated frames as one stream, so the output is an ordinary .zst/.gz.
//
// A lane is one long-lived node:zlib engine; its work runs on libuv's thread
// pool. Ending a frame is a flush (ZSTD_e_end, or Z_FINISH and a reset for
// gzip), so each lane keeps its compression context for the whole stream
// instead of allocating one per frame. Node's own multi-threaded zstd
// (ZSTD_c_nbWorkers) is not used: it failed here with ERR_STREAM_PUSH_AFTER_EOF.
//
// Memory: per lane, one frame of queued input and one of output at most.

import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

export type FrameCodec = 'zstd' | 'gzip';

export interface ParallelCompressorOptions {
  level: number;
  /** Input bytes per frame; each lane holds up to this much input and output. */
  frameSize: number;
  /** Frames compressed at the same time. */
  concurrency: number;
}

// Output buffer per engine round trip; node's 16 KiB default costs a
// main-thread round trip per 16 KiB of output.
const ENGINE_CHUNK = 256 * 1024;

export function zstdParams(level: number): Record<number, number> {
  return {
    [zlib.constants.ZSTD_c_compressionLevel]: level,
    // Lets the decoder catch damage inside a frame, before the member's sha256 does.
    [zlib.constants.ZSTD_c_checksumFlag]: 1,
  };
}

type Engine = Transform & zlib.Zlib;

/** A single-stream engine for `codec` at `level`. */
export function createEngine(codec: FrameCodec, level: number): Engine {
  const options = { chunkSize: ENGINE_CHUNK, highWaterMark: ENGINE_CHUNK };
  return codec === 'zstd' ? zlib.createZstdCompress({ ...options, params: zstdParams(level) }) : zlib.createGzip({ ...options, level });
}

interface Frame {
  chunks: Buffer[];
  /** Settles when the frame's last output byte has arrived. */
  done: Promise<void>;
}

class Lane {
  readonly engine: Engine;
  readonly #codec: FrameCodec;
  #collecting: Buffer[] = [];
  #failure: Error | undefined;
  #busy: Promise<void> = Promise.resolve();

  constructor(codec: FrameCodec, level: number, onError: (error: Error) => void) {
    this.#codec = codec;
    this.engine = createEngine(codec, level);
    this.engine.on('data', (chunk: Buffer) => this.#collecting.push(chunk));
    this.engine.on('error', (error: Error) => {
      this.#failure = error;
      onError(error);
    });
  }

  /** Waits until the lane's previous frame is complete. */
  idle(): Promise<void> {
    return this.#busy;
  }

  begin(): void {
    this.#collecting = [];
  }

  write(chunk: Buffer): void {
    this.engine.write(chunk);
  }

  /** Ends the current frame; the frame's output is complete when `done` settles. */
  end(): Frame {
    const chunks = this.#collecting;
    const flushKind = this.#codec === 'zstd' ? zlib.constants.ZSTD_e_end : zlib.constants.Z_FINISH;
    const done = new Promise<void>((resolve, reject) => {
      this.engine.flush(flushKind, () => {
        if (this.#failure) return reject(this.#failure);
        // A finished gzip member leaves deflate in its end state; reset starts the next member.
        // (reset() exists on every zlib engine at run time; the typings leave it off Gzip.)
        if (this.#codec === 'gzip') (this.engine as Engine & zlib.ZlibReset).reset();
        resolve();
      });
    });
    done.catch(() => undefined);
    this.#busy = done.catch(() => undefined);
    return { chunks, done };
  }
}

export class ParallelCompressor extends Transform {
  readonly #lanes: Lane[];
  readonly #frameSize: number;
  #lane = 0;
  #filled = 0;
  #framesStarted = 0;
  readonly #pending: Frame[] = [];

  constructor(codec: FrameCodec, options: ParallelCompressorOptions) {
    super({ readableHighWaterMark: 1 });
    this.#frameSize = options.frameSize;
    this.#lanes = Array.from({ length: Math.max(1, options.concurrency) }, () => new Lane(codec, options.level, (error) => this.destroy(error)));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#accept(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      // An empty input still yields one (empty) frame: a valid compressed file.
      if (this.#filled > 0 || this.#framesStarted === 0) {
        if (this.#filled === 0) await this.#startFrame();
        this.#endFrame();
      }
      while (this.#pending.length > 0) await this.#emitOldest();
      for (const lane of this.#lanes) lane.engine.destroy();
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    for (const lane of this.#lanes) lane.engine.destroy();
    callback(error);
  }

  async #accept(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length; ) {
      if (this.#filled === 0) await this.#startFrame();
      const piece = chunk.subarray(offset, offset + this.#frameSize - this.#filled);
      this.#lanes[this.#lane]!.write(piece);
      offset += piece.length;
      this.#filled += piece.length;
      if (this.#filled === this.#frameSize) this.#endFrame();
    }
  }

  /** Picks the next lane, first emitting (in order) whatever frame it was still busy with. */
  async #startFrame(): Promise<void> {
    const lane = this.#lanes[this.#lane]!;
    while (this.#pending.length >= this.#lanes.length) await this.#emitOldest();
    await lane.idle();
    lane.begin();
    this.#framesStarted++;
  }

  #endFrame(): void {
    this.#pending.push(this.#lanes[this.#lane]!.end());
    this.#lane = (this.#lane + 1) % this.#lanes.length;
    this.#filled = 0;
  }

  async #emitOldest(): Promise<void> {
    const frame = this.#pending.shift();
    if (!frame) return;
    await frame.done;
    for (const chunk of frame.chunks) this.push(chunk);
  }
}
