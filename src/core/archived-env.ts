// The archived .env is member 1 of every archive, right after the manifest:
// a restore plans from it without unpacking anything else.
import type { AgeIdentities } from '../archive/age/keys.ts';
import { readArchiveMembers } from '../archive/archive-reader.ts';
import { ArchiveError } from '../errors.ts';
import { MANIFEST_MEMBER, STACK_ENV_MEMBER } from './manifest.ts';

/** Reads the archived .env without unpacking anything else (it is member 1). */
export async function archivedEnv(path: string, identities?: AgeIdentities): Promise<string> {
  for await (const member of readArchiveMembers(path, { identities })) {
    if (member.name === STACK_ENV_MEMBER) {
      const chunks: Buffer[] = [];
      for await (const chunk of member.stream) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    }
    member.stream.resume();
    if (member.name !== MANIFEST_MEMBER) break;
  }
  throw new ArchiveError(`the archive has no ${STACK_ENV_MEMBER}`, { member: STACK_ENV_MEMBER });
}

