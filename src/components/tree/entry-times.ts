// busybox tar restores the modification time of regular files but not of
// directories (their times change as entries are created in them) nor of
// symlinks. This tap reads those times from the tar stream on its way to the
// helper, so a second helper run can set them afterwards. It is
// best-effort: an entry it cannot parse ends collection, never the restore.
import { Transform, type TransformCallback } from 'node:stream';
import { BLOCK_SIZE, isZeroBlock, paddedSize, parseHeader, parsePaxData } from '../../archive/tar-header.ts';

export interface EntryTime {
  path: string;
  mtime: number;
}

export class EntryTimeTap extends Transform {
  readonly times: EntryTime[] = [];
  /** Why collection stopped early, if it did. */
  problem: string | undefined;
  private pending = Buffer.alloc(0);
  private skip = 0;
  private capture: 'longname' | 'pax' | undefined;
  private captureSize = 0;
  private captured: Buffer[] = [];
  private longName: string | undefined;
  private pax: Map<string, string> | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.problem === undefined) {
      try {
        this.consume(chunk);
      } catch (error) {
        this.problem = (error as Error).message;
      }
    }
    callback(null, chunk);
  }

  private consume(chunk: Buffer): void {
    let data = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, data.length);
        if (this.capture) this.captured.push(data.subarray(0, take));
        this.skip -= take;
        data = data.subarray(take);
        if (this.skip > 0) break;
        if (this.capture) this.finishCapture();
        continue;
      }
      if (data.length < BLOCK_SIZE) break;
      const block = data.subarray(0, BLOCK_SIZE);
      data = data.subarray(BLOCK_SIZE);
      if (isZeroBlock(block)) continue;
      this.header(parseHeader(Buffer.from(block)));
    }
    this.pending = Buffer.from(data);
  }

  private header(h: ReturnType<typeof parseHeader>): void {
    if (h.type === 'L' || h.type === 'x') {
      this.capture = h.type === 'L' ? 'longname' : 'pax';
      this.captureSize = h.size;
      this.captured = [];
      this.skip = paddedSize(h.size);
      if (this.skip === 0) this.finishCapture();
      return;
    }
    const path = this.pax?.get('path') ?? this.longName ?? h.name;
    const mtime = Number(this.pax?.get('mtime') ?? h.mtime);
    this.longName = undefined;
    this.pax = undefined;
    if (h.type === '5' || h.type === '2') this.times.push({ path, mtime: Math.floor(mtime) });
    this.skip = h.type === '0' || h.type === '\u0000' || h.type === '7' ? paddedSize(h.size) : 0;
  }

  private finishCapture(): void {
    const body = Buffer.concat(this.captured).subarray(0, this.captureSize);
    if (this.capture === 'longname') this.longName = body.toString('utf8').replace(/\u0000+$/, '');
    else this.pax = parsePaxData(body);
    this.capture = undefined;
  }
}

/** NUL-separated "mtime, path" pairs, the input of the helper that sets them. */
export function timesList(times: readonly EntryTime[]): Buffer {
  return Buffer.from(times.map((t) => `${t.mtime}\u0000${t.path}\u0000`).join(''), 'utf8');
}
