// The sha256 of a whole file, streamed: what a backup re-reads to prove the
// disk kept the archive it wrote, and what a copy offsite must arrive with.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ArchiveError } from '../errors.ts';

export async function fileSha256(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), hash, signal ? { signal } : {});
  return hash.digest('hex');
}

/** Re-reads a written file and compares its sha256 with the one computed while writing it. */
export async function checkFileKept(path: string, expectedSha256: string, signal?: AbortSignal): Promise<void> {
  const actual = await fileSha256(path, signal);
  if (actual !== expectedSha256) {
    throw new ArchiveError(`${path} differs from what was written (sha256 ${actual}, expected ${expectedSha256}): the disk did not keep it`, {
      hint: 'check the disk under BACKUP_ROOT, then run the backup again',
    });
  }
}
