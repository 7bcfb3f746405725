// Every way an archive can be wrong is refused with an ArchiveError that
// names the member concerned.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { readManifest } from '../../src/archive/archive-reader.ts';
import { CODECS, compressSmall, type Codec } from '../../src/archive/codec.ts';
import { END_OF_ARCHIVE, buildMemberHeader } from '../../src/archive/tar-header.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import {
  MTIME,
  SAMPLE_MEMBERS,
  assembleArchive,
  buildArchive,
  manifestFor,
  rejectsNaming,
  sampleBytes,
  sha256,
  tempDir,
  type BuiltArchive,
} from './archive-support.ts';

interface Region {
  name: string;
  /** Where the member's header frame starts. */
  start: number;
  headerLength: number;
  /** Where its data frames start, and their length. */
  dataStart: number;
  dataLength: number;
  /** Where the next member's header (or the end marker) starts. */
  end: number;
}

/** Finds each member's frames in the file, using the fact that the writer's frames are deterministic. */
async function layout(archive: BuiltArchive): Promise<{ bytes: Buffer; regions: Region[]; endMarker: number }> {
  const bytes = await readFile(archive.path);
  const { codec } = archive;
  const manifestData = Buffer.from(`${JSON.stringify(archive.manifest, null, 2)}\n`);
  const entries = [
    { name: 'manifest.json', size: manifestData.length, data: compressSmall(codec, manifestData) },
    ...(await Promise.all(archive.staged.map(async (m) => ({ name: m.name, size: m.size, data: await readFile(m.stagedPath) })))),
  ];
  const regions: Region[] = [];
  let cursor = 0;
  for (const entry of entries) {
    // An empty member has no data frames in the archive.
    if (entry.size === 0) entry.data = Buffer.alloc(0);
    const declared = entry.name === 'manifest.json' ? sha256(manifestData) : undefined;
    const header = compressSmall(codec, buildMemberHeader({ name: entry.name, size: entry.size, mtime: MTIME, sha256: declared }));
    const start = bytes.indexOf(header, cursor);
    const dataStart = bytes.indexOf(entry.data, start + header.length);
    assert.ok(start >= 0 && dataStart === start + header.length, `layout of ${entry.name}`);
    regions.push({ name: entry.name, start, headerLength: header.length, dataStart, dataLength: entry.data.length, end: -1 });
    cursor = dataStart + entry.data.length;
  }
  const endMarker = bytes.length - compressSmall(codec, END_OF_ARCHIVE).length;
  for (const [i, region] of regions.entries()) region.end = regions[i + 1]?.start ?? endMarker;
  return { bytes, regions, endMarker };
}

async function variant(dir: string, name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

function flipped(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ 0x5a;
  return copy;
}

/** Compresses a whole uncompressed archive as one frame: a valid file of `codec` with other framing. */
function recompress(codec: Codec, tar: Buffer): Buffer {
  return codec === 'zstd' ? zlib.zstdCompressSync(tar) : codec === 'gzip' ? zlib.gzipSync(tar) : tar;
}

for (const codec of CODECS) {
  describe(`corrupted ${codec} archives`, () => {
    test('a flipped byte in any member data names that member', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec);
      const { bytes, regions } = await layout(archive);
      for (const region of regions) {
        for (const at of [0.1, 0.5, 0.99]) {
          const offset = region.dataStart + Math.floor(region.dataLength * at);
          const path = await variant(dir, `data-${at}`, flipped(bytes, offset));
          await rejectsNaming(verifyArchive(path), region.name, /sha256 mismatch|damaged|JSON|mismatch|manifest/);
        }
      }
    });

    test('a flipped byte in any header names the member it belongs to', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec);
      const { bytes, regions } = await layout(archive);
      for (const region of regions) {
        // Uncompressed: inside the name field (the header checksum catches it); compressed: mid-frame.
        const offset = region.start + (codec === 'none' ? 5 : Math.floor(region.headerLength / 2));
        const path = await variant(dir, 'header', flipped(bytes, offset));
        await rejectsNaming(verifyArchive(path), region.name, /header|damaged/);
      }
    });

    test('truncation anywhere names the member it cuts into', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec);
      const { bytes, regions, endMarker } = await layout(archive);
      const cuts: Array<[number, string | undefined]> = [];
      for (const region of regions) {
        const { start, headerLength, dataStart, dataLength, end } = region;
        const points = [start + 1, start + Math.floor(headerLength / 2), dataStart, dataStart + 1, dataStart + (dataLength >> 1), dataStart + dataLength - 1, dataStart + dataLength, end - 1];
        // The first bytes of the file are the format's magic number: too short to be recognised at all.
        for (const point of points) if (point > (codec === 'none' ? 262 : 8)) cuts.push([point, region.name]);
        if (start > 0) cuts.push([start, region.name]);
      }
      cuts.push([endMarker, undefined], [endMarker + 1, undefined], [bytes.length - 1, undefined]);
      for (const [length, member] of cuts) {
        const path = await variant(dir, 'cut', bytes.subarray(0, length));
        const error = await rejectsNaming(verifyArchive(path), member, /truncated|ends|damaged/);
        if (member !== undefined && member !== 'manifest.json') assert.ok(!/sha256/.test(error.message), error.message);
      }
    });

    test('data after the end of the archive is refused', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec);
      const bytes = await readFile(archive.path);
      for (const tail of [Buffer.from('garbage'), randomBytes(3000), compressSmall(codec, Buffer.from('more data'))]) {
        await rejectsNaming(verifyArchive(await variant(dir, 'tail', Buffer.concat([bytes, tail]))), undefined, /after the end/);
      }
      if (codec === 'none') {
        // Zero blocks after the marker are what GNU tar writes to fill a record.
        await verifyArchive(await variant(dir, 'zeros', Buffer.concat([bytes, Buffer.alloc(8192)])));
      }
    });

    test('a member missing, unlisted or duplicated is named', async (t) => {
      const dir = await tempDir(t);
      const [a, b, c] = SAMPLE_MEMBERS as [typeof SAMPLE_MEMBERS[0], typeof SAMPLE_MEMBERS[1], typeof SAMPLE_MEMBERS[2]];
      const manifest = { name: 'manifest.json', data: manifestFor([a, b, c]) };
      const missing = await variant(dir, 'missing', assembleArchive(codec, [manifest, a, c]));
      await rejectsNaming(verifyArchive(missing), b.name, /manifest\.json lists volumes\/auth-secrets\.tar but the archive lacks it/);
      const extra = { name: 'volumes/extra.tar', data: sampleBytes(700, 5) };
      const unlisted = await variant(dir, 'unlisted', assembleArchive(codec, [manifest, a, b, extra, c]));
      await rejectsNaming(verifyArchive(unlisted), extra.name, /not listed/);
      const twice = await variant(dir, 'twice', assembleArchive(codec, [manifest, a, b, b, c]));
      await rejectsNaming(verifyArchive(twice), b.name, /twice/);
      const noManifest = await variant(dir, 'no-manifest', assembleArchive(codec, [a, b, c]));
      await rejectsNaming(verifyArchive(noManifest), a.name, /not a hossadm archive/);
    });

    test('an edited manifest (size, sha256, format version, JSON) is refused', async (t) => {
      const dir = await tempDir(t);
      const [a, b] = SAMPLE_MEMBERS as [typeof SAMPLE_MEMBERS[0], typeof SAMPLE_MEMBERS[1]];
      const good = JSON.parse(manifestFor([a, b]).toString()) as { formatVersion: number; members: Array<{ size: number; sha256: string }> };
      const edits: Array<[string, (m: typeof good) => unknown, string, RegExp]> = [
        ['size', (m) => ((m.members[1]!.size += 1), m), b.name, /size mismatch/],
        ['sha256', (m) => ((m.members[0]!.sha256 = '0'.repeat(64)), m), a.name, /sha256 mismatch/],
        ['version', (m) => ((m.formatVersion = 99), m), 'manifest.json', /format version 99 is newer/],
        ['members', (m) => ({ formatVersion: m.formatVersion }), 'manifest.json', /no members list/],
      ];
      for (const [label, edit, member, message] of edits) {
        const text = Buffer.from(JSON.stringify(edit(structuredClone(good))));
        const path = await variant(dir, label, assembleArchive(codec, [{ name: 'manifest.json', data: text }, a, b]));
        await rejectsNaming(verifyArchive(path), member, message);
      }
      const notJson = await variant(dir, 'json', assembleArchive(codec, [{ name: 'manifest.json', data: Buffer.from('{"formatVersion":1,') }, a, b]));
      await rejectsNaming(verifyArchive(notJson), 'manifest.json', /not valid JSON/);
    });

    test('a sha256 edited in place inside a written manifest is caught', async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, 'none');
      const tar = await readFile(archive.path);
      const target = archive.manifest.members[2]!;
      const at = tar.indexOf(target.sha256);
      const edited = Buffer.from(tar);
      edited.write(target.sha256[0] === 'a' ? 'b' : 'a', at, 'latin1');
      // The manifest's own checksum, in its header, catches the edit.
      await rejectsNaming(verifyArchive(await variant(dir, 'edited', recompress(codec, edited))), 'manifest.json', /sha256 mismatch/);
      // The same bytes, unedited but framed differently, are still a good archive.
      await verifyArchive(await variant(dir, 'reframed', recompress(codec, tar)));
    });
  });
}

describe('files that are not archives', () => {
  test('empty, random, or random after a magic number', async (t) => {
    const dir = await tempDir(t);
    await rejectsNaming(verifyArchive(await variant(dir, 'empty', Buffer.alloc(0))), undefined, /is empty: not a hossadm archive/);
    await rejectsNaming(readManifest(await variant(dir, 'empty2', Buffer.alloc(0))), undefined, /is empty/);
    await rejectsNaming(verifyArchive(await variant(dir, 'random', randomBytes(4096))), undefined, /not a hossadm archive/);
    for (const magic of [[0x28, 0xb5, 0x2f, 0xfd], [0x1f, 0x8b]]) {
      const path = await variant(dir, 'magic', Buffer.concat([Buffer.from(magic), randomBytes(4096)]));
      await rejectsNaming(verifyArchive(path), 'manifest.json', /damaged|truncated/);
    }
    await rejectsNaming(verifyArchive(join(dir, 'does-not-exist.tar.zst')), undefined, /cannot open/);
  });
});

describe('every cut and every flipped byte of a small archive', () => {
  // Sampled offsets keep this to seconds; a full sweep (step 1) passes too.
  const members = [
    { name: 'a.tar', data: sampleBytes(3000, 1) },
    { name: 'b/empty', data: Buffer.alloc(0) },
    { name: 'c.sql', data: sampleBytes(1024, 2) },
    { name: 'd.dump', data: sampleBytes(700, 3) },
  ];
  for (const codec of CODECS) {
    test(`${codec}: refused, naming the member whose bytes were hit`, async (t) => {
      const dir = await tempDir(t);
      const archive = await buildArchive(dir, codec, members);
      const { bytes, regions, endMarker } = await layout(archive);
      const owner = (offset: number) => (offset >= endMarker ? undefined : regions.findLast((region) => offset >= region.start)?.name);
      // Below these offsets the file no longer announces its format at all.
      const recognisable = codec === 'none' ? 263 : 4;
      const step = codec === 'none' ? 29 : 7;
      for (let length = recognisable; length < bytes.length; length += step) {
        await rejectsNaming(verifyArchive(await variant(dir, 'cut', bytes.subarray(0, length))), owner(length), /truncated|ends/);
      }
      for (let offset = codec === 'none' ? 262 : 4; offset < bytes.length; offset += step) {
        const path = await variant(dir, 'flip', flipped(bytes, offset));
        const outcome = await verifyArchive(path).then(
          () => 'accepted',
          (error: unknown) => error,
        );
        // A few bytes carry nothing the content depends on (gzip's timestamp, a PAX record's key): accepted is right then.
        if (outcome === 'accepted') continue;
        await rejectsNaming(Promise.reject(outcome), owner(offset));
      }
    });
  }
});
