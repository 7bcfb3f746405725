// The three ways an archive can be stored, how to produce and read each, and
// how to tell them apart from a file's first bytes.

import { availableParallelism } from 'node:os';
import { Duplex, PassThrough, type Transform } from 'node:stream';
import { open } from 'node:fs/promises';
import zlib from 'node:zlib';
import { ArchiveError } from '../errors.ts';
import { ByteSource } from './byte-source.ts';
import { decodeFrames } from './frame-decoder.ts';
import { ParallelCompressor, createEngine, zstdParams } from './parallel-compressor.ts';

export type Codec = 'zstd' | 'gzip' | 'none';
export const CODECS: readonly Codec[] = ['zstd', 'gzip', 'none'];

export const ARCHIVE_EXTENSION: Readonly<Record<Codec, string>> = { zstd: '.tar.zst', gzip: '.tar.gz', none: '.tar' };
export const DEFAULT_LEVEL: Readonly<Record<Exclude<Codec, 'none'>, number>> = { zstd: 3, gzip: 6 };

export interface CompressorOptions {
  level?: number;
  /**
   * Frames compressed at once on the thread pool; 1 means a single frame on
   * one core. Defaults to the number of CPUs, capped at 4.
   */
  threads?: number;
  /** Input bytes per frame when threads > 1. */
  frameSize?: number;
}

export const DEFAULT_FRAME_SIZE = 4 * 1024 * 1024;

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** A Transform whose output is a complete compressed stream of its input. */
export function createCompressor(codec: Codec, options: CompressorOptions = {}): Transform {
  if (codec === 'none') return new PassThrough({ highWaterMark: 256 * 1024 });
  const level = options.level ?? DEFAULT_LEVEL[codec];
  const threads = options.threads ?? defaultThreads();
  if (threads > 1) {
    return new ParallelCompressor(codec, { level, concurrency: threads, frameSize: options.frameSize ?? DEFAULT_FRAME_SIZE });
  }
  return createEngine(codec, level);
}

/**
 * A Transform that decompresses a stream of concatenated frames/members and
 * fails on anything else: damage, truncation, trailing bytes.
 */
export function createDecompressor(codec: Codec): Duplex {
  return Duplex.from(async function* (chunks: AsyncIterable<Buffer>) {
    yield* decodeFrames(new ByteSource(chunks), codec);
  });
}

/** Compresses a small buffer (a tar header, padding) into one frame. */
export function compressSmall(codec: Codec, data: Buffer, level?: number): Buffer {
  if (codec === 'none') return data;
  if (codec === 'zstd') return zlib.zstdCompressSync(data, { params: zstdParams(level ?? DEFAULT_LEVEL.zstd) });
  return zlib.gzipSync(data, { level: level ?? DEFAULT_LEVEL.gzip });
}

const TAR_MAGIC_OFFSET = 257;
const SNIFF_BYTES = 512;

/** The codec a file's first bytes announce, or undefined. */
export function sniffCodec(head: Buffer): Codec | undefined {
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= TAR_MAGIC_OFFSET + 5 && head.toString('latin1', TAR_MAGIC_OFFSET, TAR_MAGIC_OFFSET + 5) === 'ustar') {
    return 'none';
  }
  return undefined;
}

/** The codec of an archive whose (plaintext) first bytes are `head`; ArchiveError when they are no archive of ours. */
export function codecOf(head: Buffer, path: string): Codec {
  if (head.length === 0) throw new ArchiveError(`${path} is empty: not a hossadm archive`);
  const codec = sniffCodec(head);
  if (!codec) {
    throw new ArchiveError(`${path} is not a hossadm archive (neither zstd, gzip nor tar data)`, {
      hint: 'hossadm archives are named hoss-backup-<time>.tar.zst, .tar.gz or .tar (.age when encrypted)',
    });
  }
  return codec;
}

/** Reads the first bytes of `path`; ArchiveError when they are no archive of ours. */
export async function detectCodec(path: string): Promise<Codec> {
  const file = await open(path, 'r').catch((error: unknown) => {
    throw new ArchiveError(`cannot open ${path}: ${(error as Error).message}`, { cause: error });
  });
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await file.read(buffer, 0, SNIFF_BYTES, 0);
    return codecOf(buffer.subarray(0, bytesRead), path);
  } finally {
    await file.close();
  }
}

/** How many first bytes codecOf wants to see. */
export const CODEC_SNIFF_BYTES = SNIFF_BYTES;
