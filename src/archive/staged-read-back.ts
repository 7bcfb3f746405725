// A staged member read back from the disk as soon as it is written: its
// compressed file is decoded and hashed again and must give the size and
// sha256 counted on the way in. A backup runs this for each member while the
// next one is produced (the decoder works on the thread pool, mostly while
// the producer waits on a container), so the archive assembled from checked
// members needs only a byte-for-byte re-read of its own at the end, not a
// second decode of everything.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArchiveError } from '../errors.ts';
import { preferAbort } from './abort.ts';
import { type Codec, createDecompressor } from './codec.ts';
import { CompressedDataError } from './frame-decoder.ts';

export interface StagedCheck {
  name: string;
  stagedPath: string;
  size: number;
  sha256: string;
}

export async function readBackStaged(member: StagedCheck, codec: Codec, signal?: AbortSignal): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      createReadStream(member.stagedPath, { highWaterMark: 256 * 1024 }),
      createDecompressor(codec),
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
        }
      },
      signal ? { signal } : {},
    );
  } catch (error) {
    const cause = preferAbort(error, signal);
    if (!(cause instanceof CompressedDataError)) throw cause;
    throw new ArchiveError(`${member.name}: the staged copy does not read back (${cause.message}): the disk did not keep it`, {
      member: member.name,
      cause,
      hint: 'check the disk under BACKUP_ROOT, then run the backup again',
    });
  }
  const sha256 = hash.digest('hex');
  if (size !== member.size || sha256 !== member.sha256) {
    throw new ArchiveError(`${member.name}: the staged copy reads back as ${size} bytes with another sha256 than was written: the disk did not keep it`, {
      member: member.name,
      hint: 'check the disk under BACKUP_ROOT, then run the backup again',
    });
  }
}
