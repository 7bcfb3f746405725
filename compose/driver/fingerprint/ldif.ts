// Reads the LDIF ldapsearch prints into entries with decoded values, so two
// listings of the same directory compare equal however the tool chose to
// encode or order them.
import { byCodeUnit } from './canonical.ts';

export interface LdifEntry {
  dn: string;
  /** Attribute name (lower case) -> values, sorted. */
  attributes: Record<string, string[]>;
}

function decode(line: string): { name: string; value: string } {
  const colon = line.indexOf(':');
  if (colon <= 0) throw new Error(`not an LDIF attribute line: ${line.slice(0, 80)}`);
  const name = line.slice(0, colon);
  const rest = line.slice(colon + 1);
  if (rest.startsWith(':')) return { name, value: Buffer.from(rest.slice(1).trim(), 'base64').toString('latin1') };
  return { name, value: Buffer.from(rest.replace(/^ /, ''), 'utf8').toString('latin1') };
}

/** Values are kept as latin1 strings of their raw bytes, so binary values survive and sort byte-wise. */
export function parseLdif(text: string): LdifEntry[] {
  const entries: LdifEntry[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    // Unfold: a line starting with one space continues the previous one.
    const lines = block.replace(/\n /g, '').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    if (lines.length === 0) continue;
    const first = decode(lines[0]!);
    if (first.name.toLowerCase() !== 'dn') throw new Error(`LDIF entry does not start with dn: ${lines[0]!.slice(0, 80)}`);
    const attributes: Record<string, string[]> = {};
    for (const line of lines.slice(1)) {
      const { name, value } = decode(line);
      (attributes[name.toLowerCase()] ??= []).push(value);
    }
    for (const values of Object.values(attributes)) values.sort(byCodeUnit);
    entries.push({ dn: first.value, attributes });
  }
  return entries.sort((a, b) => byCodeUnit(a.dn.toLowerCase(), b.dn.toLowerCase()));
}
