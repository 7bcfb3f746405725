// Builds a well-formed archive that differs from a real one only in what its
// manifest says (another engine version, another format version): what a
// backup taken elsewhere or by another hossadm looks like. It goes through
// the real writer, so every checksum and seal is valid and only the
// content of the manifest can be the reason for a refusal.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readArchiveMembers, readManifestText } from '../../src/archive/archive-reader.ts';
import { writeArchive, type StagedArchiveMember } from '../../src/archive/archive-writer.ts';
import type { Codec } from '../../src/archive/codec.ts';
import { stageMember } from '../../src/archive/member-writer.ts';
import { MANIFEST_MEMBER } from '../../src/core/manifest.ts';

export async function rewriteArchive(source: string, dest: string, codec: Codec, edit: (manifest: Record<string, unknown>) => void): Promise<void> {
  const work = `${dest}.members`;
  await mkdir(work, { recursive: true });
  try {
    let manifest: Record<string, unknown> | undefined;
    const members: StagedArchiveMember[] = [];
    for await (const member of readArchiveMembers(source)) {
      if (member.name === MANIFEST_MEMBER) {
        manifest = JSON.parse(await readManifestText(member)) as Record<string, unknown>;
        continue;
      }
      const stagedPath = join(work, String(members.length));
      const staged = await stageMember(member.stream, stagedPath, codec);
      members.push({ name: member.name, stagedPath, size: staged.size, sha256: staged.sha256 });
    }
    if (!manifest) throw new Error(`${source} has no ${MANIFEST_MEMBER}`);
    edit(manifest);
    await writeArchive({ finalPath: dest, codec, manifest, members, mtime: new Date(), overwrite: true });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
