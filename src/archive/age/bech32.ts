// Bech32 (BIP 173, the original checksum constant 1, not Bech32m) as age
// uses it for keys: "age1…" recipients, "AGE-SECRET-KEY-1…" identities.
// Unlike BIP 173, age sets no 90-character limit.

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: readonly number[]): number {
  let check = 1;
  for (const value of values) {
    const top = check >>> 25;
    check = ((check & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) check ^= GENERATOR[i]!;
  }
  return check >>> 0;
}

function expandHrp(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >>> 5), 0, ...codes.map((c) => c & 31)];
}

/** Regroups bits; from 8 to 5 pads, from 5 to 8 refuses padding that is not zero or too long. */
function convertBits(data: readonly number[], from: number, to: number, pad: boolean): number[] | undefined {
  let accumulator = 0;
  let bits = 0;
  const out: number[] = [];
  const max = (1 << to) - 1;
  for (const value of data) {
    accumulator = (accumulator << from) | value;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((accumulator >>> bits) & max);
    }
    accumulator &= (1 << bits) - 1;
  }
  if (pad) {
    if (bits > 0) out.push((accumulator << (to - bits)) & max);
  } else if (bits >= from || accumulator !== 0) {
    return undefined;
  }
  return out;
}

/** Lower-case Bech32 of `data` under `hrp` (lower-case). */
export function bech32Encode(hrp: string, data: Uint8Array): string {
  const words = convertBits([...data], 8, 5, true)!;
  const check = polymod([...expandHrp(hrp), ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (check >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

/** The human-readable part (in the case it was written) and the data, or undefined for anything that is not valid Bech32. */
export function bech32Decode(text: string): { hrp: string; data: Buffer } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  if ([...text].some((c) => c.charCodeAt(0) < 33 || c.charCodeAt(0) > 126)) return undefined;
  const separator = text.lastIndexOf('1');
  if (separator < 1 || separator + 7 > text.length) return undefined;
  const hrp = text.slice(0, separator);
  const words: number[] = [];
  for (const c of text.slice(separator + 1).toLowerCase()) {
    const word = CHARSET.indexOf(c);
    if (word < 0) return undefined;
    words.push(word);
  }
  if (polymod([...expandHrp(hrp.toLowerCase()), ...words]) !== 1) return undefined;
  const bytes = convertBits(words.slice(0, -6), 5, 8, false);
  return bytes ? { hrp, data: Buffer.from(bytes) } : undefined;
}
