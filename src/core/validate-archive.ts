// The whole-archive check that restore runs before it changes anything and
// that `verify` runs on its own: every byte read and every member's sha256
// and size matched (verifyArchive), the manifest understood by this hossadm
// (parseManifest), every member owned by a component it knows, and the
// archive made from a stack of the expected profile.
import { verifyArchive, type VerifiedMember } from '../archive/verify-archive.ts';
import type { Component } from '../components/component.ts';
import { ArchiveError } from '../errors.ts';
import { parseManifest, STACK_ENV_MEMBER, type Manifest } from './manifest.ts';

export interface ValidatedArchive {
  manifest: Manifest;
  members: VerifiedMember[];
}

export async function validateArchive(path: string, components: readonly Component[], profileName: string, signal?: AbortSignal): Promise<ValidatedArchive> {
  const verified = await verifyArchive(path, { signal });
  const manifest = parseManifest(JSON.stringify(verified.manifest));
  for (const member of manifest.members) {
    if (member.name !== STACK_ENV_MEMBER && !components.some((c) => c.ownsMember(member.name))) {
      throw new ArchiveError(`member ${member.name} belongs to no component this hossadm knows`, { member: member.name, hint: 'upgrade hossadm' });
    }
  }
  if (manifest.profile !== profileName) {
    throw new ArchiveError(`the archive is a backup of a "${manifest.profile}" stack, not "${profileName}"`);
  }
  return { manifest, members: verified.members };
}
