// The age header (age-encryption.org/v1): the version line, one stanza per
// recipient ("-> type args", then the body in base64 lines of 64 columns,
// the last one shorter), and "--- " with an HMAC-SHA256 over everything
// before that space, keyed from the file key. Parsing is as strict as the
// spec: canonical unpadded base64, printable arguments, a bounded size.

import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ArchiveError } from '../../errors.ts';
import type { ByteSource } from '../byte-source.ts';

export const AGE_MAGIC = 'age-encryption.org/v1\n';
const FOOTER = '---';
const COLUMNS = 64;
// Far more than any list of recipients needs; a bound so a damaged file cannot make the reader buffer without end.
const MAX_HEADER_BYTES = 1024 * 1024;

export interface Stanza {
  type: string;
  args: string[];
  body: Buffer;
}

export function encodeBase64(data: Buffer): string {
  return data.toString('base64').replace(/=+$/, '');
}

/** Canonical unpadded base64, or undefined. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*$/.test(text)) return undefined;
  const data = Buffer.from(text, 'base64');
  return encodeBase64(data) === text ? data : undefined;
}

function macKey(fileKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
}

function headerMac(fileKey: Buffer, headerUpToFooter: string): Buffer {
  return createHmac('sha256', macKey(fileKey)).update(headerUpToFooter, 'latin1').digest();
}

export function buildHeader(stanzas: readonly Stanza[], fileKey: Buffer): Buffer {
  let text = AGE_MAGIC;
  for (const stanza of stanzas) {
    text += `-> ${[stanza.type, ...stanza.args].join(' ')}\n`;
    const body = encodeBase64(stanza.body);
    // Full lines of 64, then always a shorter last line (empty when the body fills whole lines).
    for (let i = 0; i <= body.length; i += COLUMNS) text += `${body.slice(i, i + COLUMNS)}\n`;
  }
  text += FOOTER;
  return Buffer.from(`${text} ${encodeBase64(headerMac(fileKey, text))}\n`, 'latin1');
}

export interface ParsedHeader {
  stanzas: Stanza[];
  /** Checks the MAC once a stanza gave the file key. */
  macMatches(fileKey: Buffer): boolean;
}

function damaged(problem: string): ArchiveError {
  return new ArchiveError(`the age header is damaged: ${problem}`, { hint: 'use another copy of the archive' });
}

/** Reads one line (without its \n), refusing lines past the header's bound. */
async function readLine(source: ByteSource, budget: { left: number }): Promise<string> {
  const parts: Buffer[] = [];
  for (;;) {
    const chunk = await source.read(Math.min(budget.left, 4096));
    if (chunk === null) throw new ArchiveError('the encrypted archive is truncated inside its age header');
    const end = chunk.indexOf(0x0a);
    const taken = end < 0 ? chunk : chunk.subarray(0, end + 1);
    source.unshift(chunk.subarray(taken.length));
    budget.left -= taken.length;
    parts.push(taken);
    if (end >= 0) return Buffer.concat(parts).toString('latin1').slice(0, -1);
    if (budget.left <= 0) throw damaged(`no end within ${MAX_HEADER_BYTES} bytes`);
  }
}

const ARGUMENT = /^[\x21-\x7e]+$/;

/** Parses the header at the start of `source`, which is left at the first payload byte. */
export async function parseHeader(source: ByteSource): Promise<ParsedHeader> {
  const budget = { left: MAX_HEADER_BYTES };
  const first = await readLine(source, budget);
  if (`${first}\n` !== AGE_MAGIC) throw new ArchiveError('not an age v1 file');
  let text = AGE_MAGIC;
  const stanzas: Stanza[] = [];
  for (;;) {
    const line = await readLine(source, budget);
    if (line.startsWith(`${FOOTER} `)) {
      const mac = decodeBase64(line.slice(FOOTER.length + 1));
      if (mac?.length !== 32) throw damaged('its MAC line is malformed');
      const covered = text + FOOTER;
      return { stanzas, macMatches: (fileKey) => timingSafeEqual(headerMac(fileKey, covered), mac) };
    }
    text += `${line}\n`;
    if (!line.startsWith('-> ')) throw damaged('a line that is neither a stanza nor its end');
    const [type, ...args] = line.slice(3).split(' ');
    if (!type || ![type, ...args].every((a) => ARGUMENT.test(a))) throw damaged('a stanza line is malformed');
    let body = '';
    for (;;) {
      const bodyLine = await readLine(source, budget);
      text += `${bodyLine}\n`;
      if (bodyLine.length > COLUMNS) throw damaged('a stanza body line is longer than 64 columns');
      body += bodyLine;
      if (bodyLine.length < COLUMNS) break;
    }
    const decoded = decodeBase64(body);
    if (!decoded) throw damaged('a stanza body is not canonical base64');
    stanzas.push({ type, args, body: decoded });
  }
}
