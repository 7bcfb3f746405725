// Compression on several cores for a single stream: the input is cut into
// independent frames (zstd) or members (gzip) that are compressed at the same
// time on libuv's thread pool and written out in input order. Decoders read
// concatenated frames as one stream, so the output is an ordinary .zst/.gz.
// Node's own multi-threaded zstd (ZSTD_c_nbWorkers) is not used: it failed
// here with ERR_STREAM_PUSH_AFTER_EOF.

import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

export type FrameCodec = 'zstd' | 'gzip';

export interface ParallelCompressorOptions {
  level: number;
  /** Input bytes per frame; each frame costs this much memory per job in flight. */
  frameSize: number;
  /** Frames compressed at the same time. */
  concurrency: number;
}

/** One complete frame (zstd, with content checksum) or gzip member, on the thread pool. */
export function compressFrame(codec: FrameCodec, data: Buffer, level: number): Promise<Buffer> {
  // One output buffer large enough for the whole frame keeps it to a single
  // round trip between the pool thread and the main thread.
  const chunkSize = Math.max(64 * 1024, data.length + (data.length >> 7) + 1024);
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, result: Buffer) => (error ? reject(error) : resolve(result));
    if (codec === 'zstd') zlib.zstdCompress(data, { chunkSize, params: zstdParams(level) }, done);
    else zlib.gzip(data, { chunkSize, level }, done);
  });
}

export function zstdParams(level: number): Record<number, number> {
  return {
    [zlib.constants.ZSTD_c_compressionLevel]: level,
    // Lets the decoder catch damage inside a frame, before the member's sha256 does.
    [zlib.constants.ZSTD_c_checksumFlag]: 1,
  };
}

export class ParallelCompressor extends Transform {
  readonly #codec: FrameCodec;
  readonly #options: ParallelCompressorOptions;
  #frame: Buffer | undefined;
  #filled = 0;
  #framesStarted = 0;
  readonly #inFlight: Array<Promise<Buffer>> = [];

  constructor(codec: FrameCodec, options: ParallelCompressorOptions) {
    super({ readableHighWaterMark: 1 });
    this.#codec = codec;
    this.#options = options;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#accept(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      // An empty input still yields one (empty) frame: a valid compressed file.
      if (this.#filled > 0 || this.#framesStarted === 0) this.#start(this.#frame?.subarray(0, this.#filled) ?? Buffer.alloc(0));
      while (this.#inFlight.length > 0) await this.#emitOldest();
    })().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // Jobs still running on the pool finish on their own; nobody awaits them.
    for (const job of this.#inFlight) job.catch(() => {});
    this.#inFlight.length = 0;
    callback(error);
  }

  async #accept(chunk: Buffer): Promise<void> {
    const { frameSize } = this.#options;
    for (let offset = 0; offset < chunk.length; ) {
      this.#frame ??= Buffer.allocUnsafe(frameSize);
      const copied = chunk.copy(this.#frame, this.#filled, offset);
      offset += copied;
      this.#filled += copied;
      if (this.#filled === frameSize) {
        this.#start(this.#frame);
        this.#frame = undefined;
        this.#filled = 0;
        while (this.#inFlight.length >= this.#options.concurrency) await this.#emitOldest();
      }
    }
  }

  #start(data: Buffer): void {
    this.#framesStarted++;
    const job = compressFrame(this.#codec, data, this.#options.level);
    job.catch(() => {}); // awaited in order later; not an unhandled rejection meanwhile
    this.#inFlight.push(job);
  }

  async #emitOldest(): Promise<void> {
    const job = this.#inFlight.shift();
    if (job) this.push(await job);
  }
}
