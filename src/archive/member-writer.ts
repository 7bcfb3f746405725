// Stages one archive member: the producer's bytes are counted and hashed as
// they stream, compressed on the way, and only the compressed form reaches
// the disk. The staged file is later copied into the archive verbatim.

import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureDir } from 'fs-extra/esm';
import { preferAbort, throwIfAborted } from './abort.ts';
import { createCompressor, type Codec, type CompressorOptions } from './codec.ts';
import { paceMemory } from './memory-pacer.ts';

export interface StagedMemberResult {
  /** Uncompressed bytes, as the manifest records them. */
  size: number;
  /** sha256 of the uncompressed bytes, lowercase hex. */
  sha256: string;
  /** Bytes of the staged (compressed) file. */
  storedSize: number;
}

class HashCounter extends Transform {
  readonly hash = createHash('sha256');
  size = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    paceMemory(chunk.length);
    callback(null, chunk);
  }
}

/**
 * Streams `input` into `stagingPath` (mode 0600, flushed to disk), compressed
 * with `codec`. On any error or abort the staged file is removed and the
 * promise rejects; the input is destroyed.
 */
export async function stageMember(
  input: Readable,
  stagingPath: string,
  codec: Codec,
  signal?: AbortSignal,
  compressor: CompressorOptions = {},
): Promise<StagedMemberResult> {
  try {
    throwIfAborted(signal);
  } catch (error) {
    input.destroy();
    throw error;
  }
  await ensureDir(dirname(stagingPath), { mode: 0o700 });
  await unlink(stagingPath).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  const counter = new HashCounter();
  // flush: fsync before close, so a staged member is on disk once this resolves.
  const output = createWriteStream(stagingPath, { flags: 'wx', mode: 0o600, flush: true, highWaterMark: 1024 * 1024 });
  try {
    await pipeline(input, counter, createCompressor(codec, compressor), output, signal ? { signal } : {});
  } catch (error) {
    await unlink(stagingPath).catch(() => undefined);
    throw preferAbort(error, signal);
  }
  return { size: counter.size, sha256: counter.hash.digest('hex'), storedSize: output.bytesWritten };
}
