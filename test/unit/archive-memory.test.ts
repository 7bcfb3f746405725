// Members stream through staging, assembly and verification in constant
// memory: a 50 MB member must not grow the process by anything like 50 MB.

import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { writeArchive } from '../../src/archive/archive-writer.ts';
import { CODECS, type Codec } from '../../src/archive/codec.ts';
import { stageMember } from '../../src/archive/member-writer.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { readArchiveMembers } from '../../src/archive/archive-reader.ts';
import { MTIME, tempDir } from './archive-support.ts';

const MEMBER_BYTES = 50 * 1024 * 1024;
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

/** Bytes produced on demand: runs of random bytes (incompressible) and of zeros (very compressible). */
function generated(total: number): Readable {
  let produced = 0;
  return new Readable({
    read() {
      if (produced >= total) return void this.push(null);
      const chunk = Buffer.alloc(Math.min(64 * 1024, total - produced));
      if ((produced >> 20) % 3 !== 2) randomFillSync(chunk);
      produced += chunk.length;
      this.push(chunk);
    },
  });
}

/** Stages, writes, verifies and reads back one member of `size` bytes. */
async function roundTrip(dir: string, codec: Codec, size: number): Promise<void> {
  const stagedPath = join(dir, '.current', `${size}.staged`);
  const staged = await stageMember(generated(size), stagedPath, codec);
  assert.equal(staged.size, size);
  const members = [{ name: 'volumes/big.tar', stagedPath, size: staged.size, sha256: staged.sha256 }];
  const manifest = { formatVersion: 1, members: members.map(({ name, size, sha256 }) => ({ name, size, sha256 })) };
  const { path } = await writeArchive({ finalPath: join(dir, `${size}.tar.x`), codec, manifest, members, mtime: MTIME });
  const verified = await verifyArchive(path);
  assert.equal(verified.members[0]?.sha256, staged.sha256);
  // A consumer that reads slowly must not make the reader buffer ahead.
  for await (const member of readArchiveMembers(path)) {
    for await (const _chunk of member.stream) await new Promise((resolve) => setImmediate(resolve));
  }
}

for (const codec of CODECS) {
  test(`${codec}: a 50 MB member is staged, written, verified and read with bounded memory`, async (t) => {
    const dir = await tempDir(t);
    // Loading code, starting the thread pool and first allocations are not growth with the data.
    await roundTrip(dir, codec, 1024 * 1024);
    let peak = 0;
    const sample = () => (peak = Math.max(peak, process.memoryUsage().rss));
    const timer = setInterval(sample, 5);
    t.after(() => clearInterval(timer));
    const baseline = process.memoryUsage().rss;
    await roundTrip(dir, codec, MEMBER_BYTES);
    sample();
    const growth = peak - baseline;
    t.diagnostic(`rss growth ${(growth / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(growth < RSS_GROWTH_LIMIT, `rss grew by ${(growth / 2 ** 20).toFixed(1)} MiB`);
  });
}
