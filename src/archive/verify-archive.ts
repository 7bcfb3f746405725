// Full check of an archive before anything relies on it: every byte is
// decompressed and parsed, every member hashed and compared with what
// manifest.json promises, and the member set must match the manifest's.

import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { ArchiveError } from '../errors.ts';
import { preferAbort } from './abort.ts';
import { MANIFEST_NAME, parseArchiveManifest, type ArchiveManifest, type ManifestMemberEntry } from './archive-manifest.ts';
import type { ArchiveInput } from './archive-bytes.ts';
import { ArchiveHeaderError, readArchiveMembers, readManifestText, type ArchiveMember, type ReadArchiveOptions } from './archive-reader.ts';

export interface VerifiedMember {
  name: string;
  size: number;
  sha256: string;
}

export interface VerifiedArchive {
  manifest: ArchiveManifest;
  /** Members after manifest.json, in archive order. */
  members: VerifiedMember[];
}

/** Reads the whole archive; resolves only if it is intact, else the first problem as an ArchiveError naming the member. */
export async function verifyArchive(input: ArchiveInput, options: ReadArchiveOptions = {}): Promise<VerifiedArchive> {
  const { signal } = options;
  const path = typeof input === 'string' ? input : input.name;
  let manifest: ArchiveManifest | undefined;
  let listed = new Map<string, ManifestMemberEntry>();
  const members: VerifiedMember[] = [];
  try {
    for await (const member of readArchiveMembers(input, options)) {
      if (!manifest) {
        const text = await readManifestText(member, signal);
        // Every archive hossadm has written seals its manifest this way; without
        // the seal, an edit to a value no member checksum covers (createdAt,
        // stackVersion, engines, fingerprints) would pass unnoticed.
        if (member.declaredSha256 === undefined) {
          throw new ArchiveError(`${MANIFEST_NAME}: its header carries no sha256 seal, so it was edited or repacked by another tool`, {
            member: MANIFEST_NAME,
            hint: 'use the archive as hossadm wrote it, or another backup',
          });
        }
        if (createHash('sha256').update(text, 'utf8').digest('hex') !== member.declaredSha256) {
          throw new ArchiveError(`${MANIFEST_NAME}: sha256 mismatch (damaged or edited)`, { member: MANIFEST_NAME });
        }
        manifest = parseArchiveManifest(text);
        listed = new Map(manifest.members.map((entry) => [entry.name, entry]));
        continue;
      }
      const expected = listed.get(member.name);
      if (!expected) throw new ArchiveError(`${member.name}: in the archive but not listed in ${MANIFEST_NAME}`, { member: member.name });
      if (member.size !== expected.size) {
        throw new ArchiveError(`${member.name}: size mismatch (${member.size} bytes in the archive, ${expected.size} in ${MANIFEST_NAME})`, {
          member: member.name,
        });
      }
      const sha256 = await hashOf(member, signal);
      if (sha256 !== expected.sha256) throw new ArchiveError(`${member.name}: sha256 mismatch`, { member: member.name });
      members.push({ name: member.name, size: member.size, sha256 });
    }
  } catch (error) {
    throw nameExpectedMember(preferAbort(error, signal), manifest);
  }
  if (!manifest) throw new ArchiveError(`${path} holds no members`);
  const present = new Set(members.map((member) => member.name));
  for (const entry of manifest.members) {
    if (!present.has(entry.name)) {
      throw new ArchiveError(`${MANIFEST_NAME} lists ${entry.name} but the archive lacks it`, { member: entry.name });
    }
  }
  // The writer stores members in manifest order, and a restore relies on it
  // (stack.env is read as the first member after the manifest).
  const misplaced = manifest.members.findIndex((entry, index) => members[index]!.name !== entry.name);
  if (misplaced >= 0) {
    const found = members[misplaced]!.name;
    throw new ArchiveError(`${found} is out of order: ${MANIFEST_NAME} lists ${manifest.members[misplaced]!.name} in its place`, { member: found });
  }
  return { manifest, members };
}

// The writer stores members in manifest order, so a damaged or missing
// header at position i most likely belongs to the manifest's i-th member.
function nameExpectedMember(error: unknown, manifest: ArchiveManifest | undefined): unknown {
  if (!(error instanceof ArchiveHeaderError)) return error;
  const expected = error.index === 0 ? MANIFEST_NAME : manifest?.members[error.index - 1]?.name;
  if (expected === undefined) return error;
  const message = error.problem === 'missing' ? `archive ends before member ${expected}: it is truncated` : `${expected}: ${error.message}`;
  return new ArchiveError(message, { member: expected, cause: error, hint: error.hint });
}

async function hashOf(member: ArchiveMember, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(member.stream, new Writable({ write: (chunk: Buffer, _e, done) => (hash.update(chunk), done()) }), { signal });
  return hash.digest('hex');
}
