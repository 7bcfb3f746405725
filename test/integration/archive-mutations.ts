// Damaged versions of a real zstd archive, for the archive fuzz test. The
// archive is a row of independent zstd frames whose contents concatenate to
// one tar (see src/archive/README.md), so it can be cut apart frame by frame
// and member by member without decompressing it into memory, and put back
// together in another order, with a member twice, or with another manifest,
// and every layer below the change stays valid.
import { createHash, type Hash } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { compressSmall } from '../../src/archive/codec.ts';
import { BLOCK_SIZE, buildMemberHeader, paddedSize, paddingFor, parseHeader, parsePaxData } from '../../src/archive/tar-header.ts';

export interface Frame {
  start: number;
  end: number;
  /** Bytes the frame decodes to. */
  decoded: number;
}

/** One tar entry's frames: header (PAX included), data, padding. */
export interface MemberSpan {
  name: string;
  size: number;
  sha256: string;
  start: number;
  /** Where its data frames start (after the header frame). */
  dataStart: number;
  end: number;
}

export interface ArchiveLayout {
  bytes: Buffer;
  frames: Frame[];
  /** manifest.json first, then every member, in archive order. */
  members: MemberSpan[];
  /** The end-of-archive frame. */
  endMarker: { start: number; end: number };
  manifestText: string;
}

const ZSTD_MAGIC = 0xfd2fb528;

/** Where the zstd frame starting at `start` ends, from its header and block headers alone. */
function frameEnd(bytes: Buffer, start: number): number {
  if (bytes.readUInt32LE(start) !== ZSTD_MAGIC) throw new Error(`no zstd frame at ${start}`);
  const descriptor = bytes[start + 4]!;
  const singleSegment = (descriptor >> 5) & 1;
  const checksum = (descriptor >> 2) & 1;
  const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
  let at = start + 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes;
  for (;;) {
    const header = bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16);
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    at += 3 + (type === 1 ? 1 : size);
    if (header & 1) break;
  }
  return at + checksum * 4;
}

/**
 * Splits a hossadm zstd archive into frames and members, decoding each frame
 * once (one at a time) with node's one-shot decoder, not with the reader
 * under test, and hashing each member's data on the way.
 */
export function layoutOf(bytes: Buffer): ArchiveLayout {
  const frames: Frame[] = [];
  const members: MemberSpan[] = [];
  let manifestText = '';
  let member: { name: string; size: number; start: number; dataStart: number; hash: Hash; seen: number } | undefined;
  for (let start = 0; start < bytes.length; ) {
    const end = frameEnd(bytes, start);
    const data = zstdDecompressSync(bytes.subarray(start, end));
    frames.push({ start, end, decoded: data.length });
    if (member) {
      member.hash.update(data.subarray(0, Math.max(0, member.size - member.seen)));
      if (members.length === 0) manifestText += data.subarray(0, Math.max(0, member.size - member.seen)).toString('utf8');
      member.seen += data.length;
      if (member.seen > paddedSize(member.size)) throw new Error(`${member.name}: frames do not end at the member's end`);
      if (member.seen === paddedSize(member.size)) {
        members.push({ name: member.name, size: member.size, sha256: member.hash.digest('hex'), start: member.start, dataStart: member.dataStart, end });
        member = undefined;
      }
    } else if (data.every((byte) => byte === 0)) {
      if (end !== bytes.length || data.length !== 2 * BLOCK_SIZE) throw new Error('the end-of-archive marker is not the last frame');
      return { bytes, frames, members, endMarker: { start, end }, manifestText };
    } else {
      const main = parseHeader(data.subarray(data.length - BLOCK_SIZE));
      const pax = data.length > BLOCK_SIZE ? parsePaxData(data.subarray(BLOCK_SIZE, BLOCK_SIZE + parseHeader(data.subarray(0, BLOCK_SIZE)).size)) : undefined;
      const name = pax?.get('path') ?? main.name;
      const size = Number(pax?.get('size') ?? main.size);
      const opened = { name, size, start, dataStart: end, hash: createHash('sha256'), seen: 0 };
      if (size === 0) members.push({ name, size, sha256: opened.hash.digest('hex'), start, dataStart: end, end });
      else member = opened;
    }
    start = end;
  }
  throw new Error('no end-of-archive marker');
}

/** name, size and sha256 of every member, manifest.json included: what must not change in a result that verifies. */
export function contentOf(layout: ArchiveLayout): Array<{ name: string; size: number; sha256: string }> {
  return layout.members.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
}

/** A small, seedable PRNG (mulberry32), so a failing case can be made again from its seed. */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

export type MutationKind = 'flip' | 'cut' | 'reorder' | 'duplicate' | 'drop' | 'manifest';

export interface Mutation {
  kind: MutationKind;
  /** What was done, to reproduce and to report. */
  label: string;
  bytes: Buffer;
}

/**
 * Flips bits of one byte: anywhere in the file, in a small frame (tar
 * headers, manifest, padding, end marker), or in a zstd frame header (where
 * some flips, such as a larger window size, leave the content as it was).
 */
export function flipByte(layout: ArchiveLayout, random: Random): Mutation {
  const small = layout.frames.filter((frame) => frame.end - frame.start < 4096);
  const where = random.next();
  let offset: number;
  if (where < 0.55) offset = random.below(layout.bytes.length);
  else if (where < 0.85) {
    const frame = random.pick(small);
    offset = frame.start + random.below(frame.end - frame.start);
  } else offset = random.pick(layout.frames).start + 4 + random.below(2);
  const mask = 1 + random.below(255);
  const bytes = Buffer.from(layout.bytes);
  bytes[offset]! ^= mask;
  return { kind: 'flip', label: `flip byte ${offset} ^ 0x${mask.toString(16)}`, bytes };
}

/** Cuts the file: at a random length, at a frame or member boundary, or inside the last frame. */
export function cutLength(layout: ArchiveLayout, random: Random): Mutation {
  const { frames, members, bytes } = layout;
  const last = frames.at(-1)!;
  const choices: Array<() => [number, string]> = [
    () => [random.below(bytes.length), 'random'],
    () => [random.pick(frames).start, 'frame boundary'],
    () => [random.pick(members).start, 'member boundary'],
    () => [random.pick(members).dataStart, 'after a header'],
    () => [last.start + random.below(last.end - last.start), 'inside the last frame'],
  ];
  const [length, where] = random.pick(choices)();
  return { kind: 'cut', label: `cut to ${length} bytes (${where})`, bytes: bytes.subarray(0, length) };
}

function assemble(layout: ArchiveLayout, order: readonly MemberSpan[]): Buffer {
  const { bytes, endMarker } = layout;
  return Buffer.concat([...order.map((member) => bytes.subarray(member.start, member.end)), bytes.subarray(endMarker.start, endMarker.end)]);
}

/** Moves one member to another place (manifest.json included), every frame intact. */
export function reorderMembers(layout: ArchiveLayout, random: Random): Mutation {
  const order = [...layout.members];
  const from = random.below(order.length);
  let to = random.below(order.length - 1);
  if (to >= from) to++;
  const [moved] = order.splice(from, 1);
  order.splice(to, 0, moved!);
  return { kind: 'reorder', label: `move ${moved!.name} from ${from} to ${to}`, bytes: assemble(layout, order) };
}

/** Inserts a second copy of one member somewhere after the manifest. */
export function duplicateMember(layout: ArchiveLayout, random: Random): Mutation {
  const order = [...layout.members];
  const copied = random.pick(order);
  const at = 1 + random.below(order.length);
  order.splice(at, 0, copied);
  return { kind: 'duplicate', label: `${copied.name} again at ${at}`, bytes: assemble(layout, order) };
}

/** Leaves one member out (manifest.json included). */
export function dropMember(layout: ArchiveLayout, random: Random): Mutation {
  const order = [...layout.members];
  const [dropped] = order.splice(random.below(order.length), 1);
  return { kind: 'drop', label: `without ${dropped!.name}`, bytes: assemble(layout, order) };
}

type Json = Record<string, unknown>;
interface ManifestEdit {
  label: string;
  /** The new manifest.json text. */
  apply: (manifest: Json, random: Random, text: string) => string;
}

const reformat = (manifest: Json) => `${JSON.stringify(manifest, null, 2)}\n`;
const entries = (manifest: Json) => manifest['members'] as Json[];
const hexDigit = (random: Random) => '0123456789abcdef'[random.below(16)]!;

/** Value edits an operator or a bad tool could make; each changes the text. */
const MANIFEST_EDITS: readonly ManifestEdit[] = [
  { label: 'member size +1', apply: (m, r) => ((entries(m)[r.below(entries(m).length)]!['size'] as number) += 1, reformat(m)) },
  {
    label: 'member sha256 digit',
    apply: (m, r) => {
      const entry = entries(m)[r.below(entries(m).length)]!;
      const sha = entry['sha256'] as string;
      const at = r.below(64);
      let digit = hexDigit(r);
      while (digit === sha[at]) digit = hexDigit(r);
      entry['sha256'] = sha.slice(0, at) + digit + sha.slice(at + 1);
      return reformat(m);
    },
  },
  { label: 'createdAt', apply: (m) => ((m['createdAt'] = '2020-01-01T00:00:00.000Z'), reformat(m)) },
  { label: 'stackVersion', apply: (m) => ((m['stackVersion'] = '9.9.9'), reformat(m)) },
  { label: 'formatVersion 2', apply: (m) => ((m['formatVersion'] = 2), reformat(m)) },
  { label: 'formatVersion 0', apply: (m) => ((m['formatVersion'] = 0), reformat(m)) },
  { label: 'formatVersion "1"', apply: (m) => ((m['formatVersion'] = '1'), reformat(m)) },
  { label: 'profile', apply: (m) => ((m['profile'] = 'other'), reformat(m)) },
  { label: 'engines', apply: (m) => ((m['engines'] = { postgres: '99.0' }), reformat(m)) },
  { label: 'member entry dropped', apply: (m, r) => (entries(m).splice(r.below(entries(m).length), 1), reformat(m)) },
  { label: 'member entry added', apply: (m) => (entries(m).push({ name: 'volumes/extra.tar', size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' }), reformat(m)) },
  { label: 'members swapped', apply: (m) => (entries(m).reverse(), reformat(m)) },
  { label: 'member renamed', apply: (m, r) => ((entries(m)[r.below(entries(m).length)]!['name'] = '../escape.tar'), reformat(m)) },
  { label: 'invalid JSON', apply: (_m, r, text) => text.slice(0, 1 + r.below(text.length - 1)) },
  { label: 'not an object', apply: () => '[]\n' },
  { label: 'whitespace only', apply: (m) => JSON.stringify(m) },
];

export const MANIFEST_EDIT_LABELS = MANIFEST_EDITS.map((edit) => edit.label);

/**
 * A new manifest.json, with a valid tar header and valid frames, either still
 * carrying the original's sha256 seal (edited in place) or carrying none (as
 * a repack by another tar would leave it).
 */
export function editManifest(layout: ArchiveLayout, random: Random, mtime: Date): Mutation {
  const edit = random.pick(MANIFEST_EDITS);
  const original = layout.manifestText;
  const text = edit.apply(JSON.parse(original) as Json, random, original);
  const data = Buffer.from(text, 'utf8');
  const sealed = random.next() < 0.5;
  const header = buildMemberHeader({ name: 'manifest.json', size: data.length, mtime, ...(sealed ? { sha256: sealOf(layout) } : {}) });
  const manifest = Buffer.concat([compressSmall('zstd', header), compressSmall('zstd', data), compressSmall('zstd', paddingFor(data.length))].filter((b) => b.length > 0));
  const rest = layout.bytes.subarray(layout.members[1]!.start);
  return { kind: 'manifest', label: `manifest ${edit.label} (${sealed ? 'original seal kept' : 'no seal'})`, bytes: Buffer.concat([manifest, rest]) };
}

/** The sha256 the original manifest's header declares. */
function sealOf(layout: ArchiveLayout): string {
  const frame = layout.frames[0]!;
  const header = zstdDecompressSync(layout.bytes.subarray(frame.start, frame.end));
  const paxSize = parseHeader(header.subarray(0, BLOCK_SIZE)).size;
  const comment = parsePaxData(header.subarray(BLOCK_SIZE, BLOCK_SIZE + paxSize)).get('comment') ?? '';
  return comment.replace(/^hossadm sha256=/, '');
}

export const MUTATORS: Readonly<Record<MutationKind, (layout: ArchiveLayout, random: Random, mtime: Date) => Mutation>> = {
  flip: flipByte,
  cut: cutLength,
  reorder: reorderMembers,
  duplicate: duplicateMember,
  drop: dropMember,
  manifest: editManifest,
};
