// Shared by the archive tests: temporary folders, staging and writing small
// archives, assembling deliberately wrong ones, and checking the error.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { ArchiveError } from '../../src/errors.ts';
import { writeArchive, type StagedArchiveMember } from '../../src/archive/archive-writer.ts';
import { ARCHIVE_EXTENSION, compressSmall, type Codec } from '../../src/archive/codec.ts';
import { stageMember } from '../../src/archive/member-writer.ts';
import { END_OF_ARCHIVE, buildMemberHeader, paddingFor } from '../../src/archive/tar-header.ts';

export const MTIME = new Date('2024-05-06T07:08:09Z');

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hossadm-archive-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Text-like bytes that compress, but not to nothing, so members span real frames. */
export function sampleBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = 0x61 + ((state >>> 0) % 20);
  }
  return out;
}

export interface SampleMember {
  name: string;
  data: Buffer;
}

export const SAMPLE_MEMBERS: readonly SampleMember[] = [
  { name: 'config.tar', data: sampleBytes(150_001, 1) },
  { name: 'volumes/auth-secrets.tar', data: sampleBytes(70_003, 2) },
  { name: 'postgres/globals.sql', data: sampleBytes(2_005, 3) },
  { name: 'postgres/hoss_core.dump', data: sampleBytes(300_007, 4) },
];

export interface BuiltArchive {
  path: string;
  codec: Codec;
  manifest: { formatVersion: number; members: Array<{ name: string; size: number; sha256: string }> };
  staged: StagedArchiveMember[];
}

/** Stages `members` and writes them as an archive, the way a backup does. */
export async function buildArchive(dir: string, codec: Codec, members: readonly SampleMember[] = SAMPLE_MEMBERS): Promise<BuiltArchive> {
  const staged: StagedArchiveMember[] = [];
  for (const [index, member] of members.entries()) {
    const stagedPath = join(dir, '.current', `${index}.staged`);
    const result = await stageMember(Readable.from([member.data]), stagedPath, codec);
    assert.equal(result.size, member.data.length);
    assert.equal(result.sha256, sha256(member.data));
    staged.push({ name: member.name, stagedPath, size: result.size, sha256: result.sha256 });
  }
  const manifest = { formatVersion: 1, tool: { name: 'hossadm' }, members: staged.map(({ name, size, sha256 }) => ({ name, size, sha256 })) };
  const path = join(dir, `hoss-backup-20240506T070809Z${ARCHIVE_EXTENSION[codec]}`);
  await writeArchive({ finalPath: path, codec, manifest, members: staged, mtime: MTIME });
  return { path, codec, manifest, staged };
}

/** An archive laid out like the writer's, from arbitrary entries, for wrong archives the writer refuses to make. */
export function assembleArchive(codec: Codec, entries: ReadonlyArray<{ name: string; data: Buffer }>): Buffer {
  const frames: Buffer[] = [];
  for (const { name, data } of entries) {
    // manifest.json carries its sha256 seal, as the writer's does.
    const seal = name === 'manifest.json' ? { sha256: sha256(data) } : {};
    frames.push(compressSmall(codec, buildMemberHeader({ name, size: data.length, mtime: MTIME, ...seal })));
    if (data.length > 0) frames.push(compressSmall(codec, data));
    const padding = paddingFor(data.length);
    if (padding.length > 0) frames.push(compressSmall(codec, padding));
  }
  frames.push(compressSmall(codec, END_OF_ARCHIVE));
  return Buffer.concat(frames);
}

export function manifestFor(entries: readonly SampleMember[]): Buffer {
  const members = entries.map(({ name, data }) => ({ name, size: data.length, sha256: sha256(data) }));
  return Buffer.from(JSON.stringify({ formatVersion: 1, members }));
}

/** Asserts that `promise` rejects with an ArchiveError about `member` (undefined: about no member) whose message matches. */
export async function rejectsNaming(promise: Promise<unknown>, member: string | undefined, message?: RegExp): Promise<ArchiveError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ArchiveError, `expected an ArchiveError, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.member, member, `wrong member in: ${caught.message}`);
  if (message) assert.match(caught.message, message);
  if (member !== undefined) assert.ok(caught.message.includes(member), `message does not name ${member}: ${caught.message}`);
  return caught;
}
