// The RDB crosses the data folder's mount as tar, because the helpers speak
// tar only (src/docker/tree-helper.ts): on backup the one-file tar a helper
// writes is unwrapped here so the archive member is the RDB itself; on
// restore this file writes the tar of the files Redis must find in its data
// folder, with their numeric owner, for a helper to extract.
import { createReadStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { BLOCK_SIZE, END_OF_ARCHIVE, isZeroBlock, paddingFor, parseHeader } from '../../archive/tar-header.ts';
import { OperationError } from '../../errors.ts';

/** The bytes of the first (and only) regular file of a tar stream. */
export class SingleFileFromTar extends Transform {
  private header: Buffer = Buffer.alloc(0);
  private remaining: number | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let data = chunk;
    if (this.remaining === undefined) {
      this.header = Buffer.concat([this.header, data]);
      if (this.header.length < BLOCK_SIZE) return callback();
      const block = this.header.subarray(0, BLOCK_SIZE);
      try {
        if (isZeroBlock(block)) throw new Error('the tar holds no file');
        const parsed = parseHeader(block);
        if (parsed.type !== '0' && parsed.type !== '') throw new Error(`the tar's first entry is of type "${parsed.type}", not a file`);
        this.remaining = parsed.size;
      } catch (error) {
        return callback(new OperationError(`the RDB copied out of the container is not the expected tar: ${(error as Error).message}`));
      }
      data = this.header.subarray(BLOCK_SIZE);
      this.header = Buffer.alloc(0);
    }
    if (this.remaining > 0 && data.length > 0) {
      const take = data.subarray(0, this.remaining);
      this.remaining -= take.length;
      this.push(take);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(this.remaining === 0 ? null : new OperationError('the RDB copied out of the container ended early'));
  }
}

export interface PlacedEntry {
  name: string;
  type: 'file' | 'dir' | 'link';
  mode: number;
  /** File bytes: a path on this host, or literal content. */
  path?: string;
  content?: Buffer;
  size?: number;
  /** Hard link target (type link). */
  target?: string;
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** A ustar header with numeric owner, for names below 100 ASCII characters. */
function header(entry: PlacedEntry, uid: number, gid: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  const size = entry.type === 'file' ? entry.size ?? entry.content?.length ?? 0 : 0;
  block.write(entry.type === 'dir' ? `${entry.name}/` : entry.name, 0, 100, 'ascii');
  block.write(octal(entry.mode, 8), 100, 'ascii');
  block.write(octal(uid, 8), 108, 'ascii');
  block.write(octal(gid, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(entry.type === 'dir' ? '5' : entry.type === 'link' ? '1' : '0', 156, 'ascii');
  if (entry.target) block.write(entry.target, 157, 100, 'ascii');
  block.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** A tar of `entries`, every one owned by uid:gid. */
export function tarOf(entries: readonly PlacedEntry[], owner: string): Readable {
  const [uid, gid] = owner.split(':').map(Number) as [number, number];
  const mtime = Math.floor(Date.now() / 1000);
  return Readable.from((async function* () {
    for (const entry of entries) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._/-]{0,90}$/.test(entry.name)) throw new OperationError(`cannot place "${entry.name}" in the Redis data folder`);
      yield header(entry, uid, gid, mtime);
      if (entry.type !== 'file') continue;
      const size = entry.size ?? entry.content?.length ?? 0;
      if (entry.content) yield entry.content;
      else for await (const chunk of createReadStream(entry.path!)) yield chunk as Buffer;
      yield paddingFor(size);
    }
    yield END_OF_ARCHIVE;
  })(), { objectMode: false });
}
