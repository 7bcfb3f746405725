// The whole-archive check that restore runs before it changes anything and
// that `verify` runs on its own: every byte read and every member's sha256
// and size matched (verifyArchive), the manifest understood by this hossadm
// (parseManifest), the archive made from a stack of the expected profile,
// and every member and record belonging to an instance of that profile, of
// the same kind.
import type { AgeIdentities } from '../archive/age/keys.ts';
import { verifyArchive, type VerifiedMember } from '../archive/verify-archive.ts';
import type { Profile } from '../config/profile.ts';
import { ArchiveError } from '../errors.ts';
import { parseManifest, STACK_ENV_MEMBER, type Manifest } from './manifest.ts';

export interface ValidatedArchive {
  manifest: Manifest;
  members: VerifiedMember[];
}

/** Checks a parsed manifest against the profile; format-1 records get their kind from it. */
export function checkAgainstProfile(manifest: Manifest, profile: Profile): void {
  if (manifest.profile !== profile.name) {
    throw new ArchiveError(`the archive is a backup of a "${manifest.profile}" stack, not "${profile.name}"`);
  }
  const kinds = new Map(profile.components.map((c) => [c.id, c.kind]));
  for (const member of manifest.members) {
    if (member.name !== STACK_ENV_MEMBER && !kinds.has(member.component)) {
      throw new ArchiveError(`member ${member.name} belongs to no component this hossadm knows`, { member: member.name, hint: 'upgrade hossadm' });
    }
  }
  for (const [id, record] of Object.entries(manifest.components)) {
    const kind = kinds.get(id);
    if (kind === undefined) throw new ArchiveError(`the archive holds component "${id}", which the ${profile.name} profile does not list`, { hint: 'restore with the profile the backup was taken with' });
    record.kind ??= kind;
    if (record.kind !== kind) throw new ArchiveError(`component "${id}" is a ${record.kind} in the archive but a ${kind} in the ${profile.name} profile`, { hint: 'restore with the profile the backup was taken with' });
  }
}

export async function validateArchive(path: string, profile: Profile, signal?: AbortSignal, identities?: AgeIdentities): Promise<ValidatedArchive> {
  const verified = await verifyArchive(path, { signal, identities });
  const manifest = parseManifest(JSON.stringify(verified.manifest));
  checkAgainstProfile(manifest, profile);
  return { manifest, members: verified.members };
}
