// A copy of an archive with one byte flipped in the middle of one member's
// stored data, for "a damaged member is refused before anything changes".
import { readFile, writeFile } from 'node:fs/promises';
import { layoutOf } from '../integration/archive-mutations.ts';

export async function writeWithMemberDamaged(archive: string, member: string, out: string): Promise<void> {
  const bytes = Buffer.from(await readFile(archive));
  const span = layoutOf(bytes).members.find((m) => m.name === member);
  if (!span) throw new Error(`${archive} has no member ${member}`);
  const at = span.dataStart + Math.floor((span.end - span.dataStart) / 2);
  bytes[at] = bytes[at]! ^ 0x5a;
  await writeFile(out, bytes);
}
