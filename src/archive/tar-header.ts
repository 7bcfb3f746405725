// The tar records hossadm writes and accepts: POSIX ustar headers for regular
// files, preceded by a PAX extended header ('x') when a name is not short
// ASCII or a size does not fit the 11 octal digits of the ustar field.
//
// node-tar's Pax class writes the PAX records (paxData). The ustar blocks and
// all parsing stay hand-written, because node-tar's Header does not do what
// format 1 and the strict reader need (checked against tar 7.5.23):
// - Header#encode writes other bytes: numbers as "000600 \0" (six digits, space,
//   NUL) where format 1 has "0000600\0", the checksum as "0ddddd \0" where it
//   has "0ddddd\0 ", devmajor/devminor as octal zeros where it has NUL bytes,
//   and a name of exactly 100 bytes split into prefix + name. The golden
//   format-1 archive would change; Pax#encode likewise (its header is named
//   "PaxHeader/…" with mode 0644 and no owner name).
// - Header#decode is lenient where the reader must refuse: it accepts any
//   magic, base-256 numbers, numbers with trailing junk ("1x" reads as 1, so a
//   checksum field damaged after its digits still validates), and decodes
//   invalid UTF-8 names to U+FFFD. Pax.parse skips malformed records silently.

import { Pax } from 'tar/pax';

export const BLOCK_SIZE = 512;
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK_SIZE);

const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  type: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;
type FieldName = keyof typeof FIELD;

const MEMBER_MODE = 0o600;
const OWNER_NAME = 'root';
export const USTAR_SIZE_LIMIT = 8 ** 11;
const PAX_HEADER_PREFIX = './PaxHeaders/';
/** Extended headers hossadm writes are a few hundred bytes; more is not ours. */
export const PAX_DATA_LIMIT = 64 * 1024;

export interface MemberHeaderInput {
  name: string;
  size: number;
  mtime: Date;
  /** sha256 of the data, carried in a PAX comment record that every tar ignores. */
  sha256?: string;
}

const SHA256_COMMENT = /^hossadm sha256=([0-9a-f]{64})$/;

/** The sha256 a PAX comment record declares, if it is one of ours. */
export function sha256FromComment(comment: string | undefined): string | undefined {
  return comment === undefined ? undefined : SHA256_COMMENT.exec(comment)?.[1];
}

/** Header block(s) for a regular file: one ustar block, or a PAX header, its data and the ustar block. */
export function buildMemberHeader({ name, size, mtime, sha256 }: MemberHeaderInput): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`bad member size ${size}`);
  const seconds = Math.max(0, Math.floor(mtime.getTime() / 1000));
  const nameFits = /^[\x20-\x7e]*$/.test(name) && name.length <= FIELD.name[1];
  const sizeFits = size < USTAR_SIZE_LIMIT;
  const fallbackName = asciiFallback(name);
  const main = ustarBlock({ name: nameFits ? name : fallbackName, size: sizeFits ? size : 0, seconds, type: '0' });
  if (nameFits && sizeFits && sha256 === undefined) return main;
  const data = paxData({
    path: nameFits ? undefined : name,
    size: sizeFits ? undefined : size,
    comment: sha256 === undefined ? undefined : `hossadm sha256=${sha256}`,
  });
  const paxHeader = ustarBlock({ name: asciiFallback(PAX_HEADER_PREFIX + fallbackName), size: data.length, seconds, type: 'x' });
  return Buffer.concat([paxHeader, data, paddingFor(data.length), main]);
}

/** Zero bytes that bring a member of `size` bytes to a block boundary. */
export function paddingFor(size: number): Buffer {
  return Buffer.alloc((BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE);
}

export function paddedSize(size: number): number {
  return size + ((BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE);
}

function ustarBlock(fields: { name: string; size: number; seconds: number; type: '0' | 'x' }): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  writeText(block, 'name', fields.name);
  writeOctal(block, 'mode', MEMBER_MODE);
  writeOctal(block, 'uid', 0);
  writeOctal(block, 'gid', 0);
  writeOctal(block, 'size', fields.size);
  writeOctal(block, 'mtime', fields.seconds);
  writeText(block, 'type', fields.type);
  block.write('ustar\u0000', FIELD.magic[0], 'latin1');
  block.write('00', FIELD.version[0], 'latin1');
  writeText(block, 'uname', OWNER_NAME);
  writeText(block, 'gname', OWNER_NAME);
  const [offset] = FIELD.checksum;
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\u0000 `, offset, 'latin1');
  return block;
}

function writeText(block: Buffer, field: FieldName, value: string): void {
  const [offset, length] = FIELD[field];
  if (Buffer.byteLength(value, 'latin1') > length) throw new RangeError(`tar ${field} too long`);
  block.write(value, offset, length, 'latin1');
}

function writeOctal(block: Buffer, field: FieldName, value: number): void {
  const [offset, length] = FIELD[field];
  block.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'latin1');
}

/** Sum of the header bytes with the checksum field counted as spaces. */
export function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) sum += i >= FIELD.checksum[0] && i < FIELD.checksum[0] + FIELD.checksum[1] ? 0x20 : block[i]!;
  return sum;
}

// For tools that ignore PAX headers: a readable ASCII stand-in, short enough.
function asciiFallback(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').slice(0, FIELD.name[1]);
}

// Format 1's record order; Pax#encodeBody has another (comment before size)
// and Pax#encode its own header block, so records are taken one by one.
const PAX_RECORD_ORDER = ['path', 'size', 'comment'] as const;

/** PAX records "<length> <key>=<value>\n" (length counts the whole record), undefined fields left out. */
function paxData(fields: { path: string | undefined; size: number | undefined; comment: string | undefined }): Buffer {
  const pax = new Pax(fields);
  return Buffer.from(PAX_RECORD_ORDER.map((key) => pax.encodeField(key)).join(''), 'utf8');
}

// ---- reading ----

export class HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderError';
  }
}

export interface ParsedHeader {
  /** Name from the ustar fields (prefix joined); a PAX path overrides it. */
  name: string;
  size: number;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses one non-zero header block; HeaderError when it is not a valid ustar header. */
export function parseHeader(block: Buffer): ParsedHeader {
  if (block.length !== BLOCK_SIZE) throw new HeaderError('short header block');
  const stored = parseOctal(block, 'checksum');
  const unsigned = checksumOf(block);
  if (stored !== unsigned && stored !== signedChecksumOf(block)) throw new HeaderError('header checksum mismatch');
  const magic = block.toString('latin1', FIELD.magic[0], FIELD.magic[0] + 8);
  const posix = magic === 'ustar\u000000';
  if (!posix && magic !== 'ustar  \u0000') throw new HeaderError('not a ustar header');
  const name = readText(block, 'name');
  const prefix = posix ? readText(block, 'prefix') : '';
  return {
    name: prefix ? `${prefix}/${name}` : name,
    size: parseOctal(block, 'size'),
    type: block.toString('latin1', FIELD.type[0], FIELD.type[0] + 1),
    mode: parseOctal(block, 'mode'),
    uid: parseOctal(block, 'uid'),
    gid: parseOctal(block, 'gid'),
    mtime: parseOctal(block, 'mtime'),
    linkname: readText(block, 'linkname'),
  };
}

function signedChecksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const byte = i >= FIELD.checksum[0] && i < FIELD.checksum[0] + FIELD.checksum[1] ? 0x20 : block[i]!;
    sum += byte > 127 ? byte - 256 : byte;
  }
  return sum;
}

function readText(block: Buffer, field: FieldName): string {
  const [offset, length] = FIELD[field];
  let end = block.indexOf(0, offset);
  if (end < 0 || end > offset + length) end = offset + length;
  try {
    return utf8.decode(block.subarray(offset, end));
  } catch {
    throw new HeaderError(`${field} is not valid UTF-8`);
  }
}

function parseOctal(block: Buffer, field: FieldName): number {
  const [offset, length] = FIELD[field];
  const raw = block.subarray(offset, offset + length);
  // GNU's base-256 numbers (high bit set) are never written by hossadm.
  if ((raw[0]! & 0x80) !== 0) throw new HeaderError(`${field} uses a base-256 number`);
  const text = raw.toString('latin1').replace(/[\u0000 ]+$/, '').replace(/^ +/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new HeaderError(`${field} is not an octal number`);
  return Number.parseInt(text, 8);
}

/** Records of a PAX extended header; later records override earlier ones. */
export function parsePaxData(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0 || space - offset > 20) throw new HeaderError('malformed PAX record');
    const lengthText = data.toString('latin1', offset, space);
    if (!/^[1-9][0-9]*$/.test(lengthText)) throw new HeaderError('malformed PAX record length');
    const end = offset + Number(lengthText);
    if (end > data.length || data[end - 1] !== 0x0a) throw new HeaderError('malformed PAX record');
    let record: string;
    try {
      record = utf8.decode(data.subarray(space + 1, end - 1));
    } catch {
      throw new HeaderError('PAX record is not valid UTF-8');
    }
    const equals = record.indexOf('=');
    if (equals <= 0) throw new HeaderError('malformed PAX record');
    records.set(record.slice(0, equals), record.slice(equals + 1));
    offset = end;
  }
  return records;
}
