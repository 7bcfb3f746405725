// A tree member written by the GNU tar helper stores a sparse file as a PAX
// 1.0 sparse member: GNU.sparse.* records, a header named
// "GNUSparseFile.<pid>/<name>", and a body that is the map of data segments
// (decimal lines, padded to a block) followed by those segments only.
// busybox tar knows none of this and would extract the map and the packed
// data under that odd name, so when only busybox is there to extract, this
// rewrites each sparse member into a plain one on its way to the helper:
// the real name and size, the holes filled with zeros. Every other byte
// passes through untouched, so a member busybox wrote comes out identical.
// Memory stays flat: data is passed on as it arrives and holes are yielded
// as one shared block of zeros at a time.
import { ByteSource } from '../../archive/byte-source.ts';
import { BLOCK_SIZE, checksumOf, isZeroBlock, paddedSize, paddingFor, parseHeader, parsePaxData, USTAR_SIZE_LIMIT } from '../../archive/tar-header.ts';
import { OperationError } from '../../errors.ts';

const ZEROS = Buffer.alloc(64 * 1024);
/** GNU tar's extended headers for a volume are a few records; more than this is not a tree member we wrote. */
const PAX_LIMIT = 1024 * 1024;
/** Entry types whose size field counts data blocks that follow the header. */
const HAS_DATA = new Set(['0', '\u0000', '7', 'x', 'g', 'L', 'K']);

/** Rewrites the PAX 1.0 sparse members of a tar stream into plain members busybox tar extracts. */
export async function* expandSparseMembers(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const source = new ByteSource(chunks);
  let paxSize: number | undefined;
  for (;;) {
    const block = await source.readUpTo(BLOCK_SIZE);
    if (block.length < BLOCK_SIZE || isZeroBlock(block)) {
      // End blocks, a cut stream or trailing bytes: tar itself judges them.
      if (block.length > 0) yield block;
      if (block.length < BLOCK_SIZE) return;
      continue;
    }
    let header: ReturnType<typeof parseHeader>;
    try {
      header = parseHeader(Buffer.from(block));
    } catch {
      // Not a header this parser reads (a base-256 number, say): hand the rest to tar unchanged.
      yield block;
      yield* passRest(source);
      return;
    }
    if (header.type === 'S') throw new OperationError(`${header.name} is an old GNU sparse member, which busybox tar cannot extract`, { hint: 'restore with the GNU tar helper image present' });
    if (header.type === 'x' && header.size <= PAX_LIMIT) {
      const data = await source.readUpTo(paddedSize(header.size));
      const records = parsePaxData(data.subarray(0, header.size));
      if ([...records.keys()].some((key) => key.startsWith('GNU.sparse.'))) {
        yield* expandOne(source, records);
        paxSize = undefined;
        continue;
      }
      yield block;
      yield data;
      paxSize = records.has('size') ? Number(records.get('size')) : undefined;
      continue;
    }
    yield block;
    const size = paxSize ?? header.size;
    paxSize = undefined;
    if (HAS_DATA.has(header.type)) yield* passBytes(source, paddedSize(size));
  }
}

/** Reads one sparse member (its PAX records already read) and yields it as a plain one. */
async function* expandOne(source: ByteSource, records: Map<string, string>): AsyncGenerator<Buffer> {
  const name = records.get('GNU.sparse.name');
  const major = records.get('GNU.sparse.major');
  const minor = records.get('GNU.sparse.minor');
  const realSize = Number(records.get('GNU.sparse.realsize'));
  if (major !== '1' || minor !== '0' || !name || !Number.isSafeInteger(realSize)) {
    throw new OperationError(`${name ?? 'a sparse member'} uses GNU sparse format ${major ?? '0'}.${minor ?? '?'}, which busybox tar cannot extract and hossadm does not expand`, {
      hint: 'restore with the GNU tar helper image present',
    });
  }
  const block = await source.readUpTo(BLOCK_SIZE);
  if (block.length < BLOCK_SIZE) throw new OperationError(`${name}: the stream ends inside its sparse member`);
  const header = parseHeader(Buffer.from(block));
  const stored = records.has('size') ? Number(records.get('size')) : header.size;
  const { segments, mapBytes } = await readMap(source, name);
  let position = 0;
  let consumed = mapBytes;

  const rest = new Map([...records].filter(([key]) => !key.startsWith('GNU.sparse.') && key !== 'size' && key !== 'path'));
  rest.set('path', name);
  if (realSize >= USTAR_SIZE_LIMIT) rest.set('size', String(realSize));
  const pax = paxBody(rest);
  yield ustarLike(block, { name: 'PaxHeaders/sparse', size: pax.length, type: 'x' });
  yield Buffer.concat([pax, paddingFor(pax.length)]);
  yield ustarLike(block, { name, size: realSize < USTAR_SIZE_LIMIT ? realSize : 0, type: '0' });

  for (const { offset, length } of segments) {
    if (offset < position || offset + length > realSize) throw new OperationError(`${name}: its sparse map is out of order or past the file's size`);
    yield* zeros(offset - position);
    yield* passBytes(source, length, name);
    position = offset + length;
    consumed += length;
  }
  yield* zeros(realSize - position);
  yield paddingFor(realSize);
  if (consumed > stored) throw new OperationError(`${name}: its sparse map holds more data than the member`);
  await skipBytes(source, paddedSize(stored) - consumed, name);
}

/** The map: a count, then offset and length of each data segment, one decimal number a line, padded to a block. */
async function readMap(source: ByteSource, name: string): Promise<{ segments: { offset: number; length: number }[]; mapBytes: number }> {
  const numbers: number[] = [];
  let partial = '';
  let mapBytes = 0;
  for (;;) {
    const block = await source.readUpTo(BLOCK_SIZE);
    if (block.length < BLOCK_SIZE) throw new OperationError(`${name}: the stream ends inside its sparse map`);
    mapBytes += BLOCK_SIZE;
    const text = partial + block.toString('latin1');
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (!/^\d+$/.test(line)) throw new OperationError(`${name}: its sparse map is damaged`);
      numbers.push(Number(line));
    }
    const count = numbers[0];
    if (count !== undefined && numbers.length >= 1 + 2 * count) {
      const segments = [];
      for (let i = 0; i < count; i++) segments.push({ offset: numbers[1 + 2 * i]!, length: numbers[2 + 2 * i]! });
      return { segments, mapBytes };
    }
  }
}

/** A copy of a real header block with another name (cut at 100 bytes: a PAX path record before it carries it whole), size and type, its checksum computed again. */
function ustarLike(original: Buffer, fields: { name: string; size: number; type: string }): Buffer {
  const block = Buffer.from(original);
  block.fill(0, 0, 100);
  Buffer.from(fields.name, 'utf8').copy(block, 0, 0, 100);
  block.fill(0, 345, 500); // prefix: the name above is the whole name
  block.write(`${fields.size.toString(8).padStart(11, '0')}\u0000`, 124, 12, 'latin1');
  block.write(fields.type, 156, 1, 'latin1');
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return block;
}

/** PAX records "<length> <key>=<value>\n", the length counting the whole record, its own digits included. */
function paxBody(records: Map<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.byteLength(` ${key}=${value}\n`, 'utf8');
    let length = body + 1;
    while (length !== body + String(length).length) length = body + String(length).length;
    parts.push(Buffer.from(`${length} ${key}=${value}\n`, 'utf8'));
  }
  return Buffer.concat(parts);
}

function* zeros(count: number): Generator<Buffer> {
  for (let left = count; left > 0; left -= ZEROS.length) yield left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left);
}

async function* passBytes(source: ByteSource, count: number, name?: string): AsyncGenerator<Buffer> {
  let left = count;
  while (left > 0) {
    const chunk = await source.read(left);
    if (chunk === null) {
      if (name) throw new OperationError(`${name}: the stream ends inside its sparse member`);
      return;
    }
    left -= chunk.length;
    yield chunk;
  }
}

async function skipBytes(source: ByteSource, count: number, name: string): Promise<void> {
  for await (const _ of passBytes(source, count, name)) {
    // Padding after the packed data: not part of the plain member.
  }
}

async function* passRest(source: ByteSource): AsyncGenerator<Buffer> {
  for (let chunk = await source.read(Number.MAX_SAFE_INTEGER); chunk !== null; chunk = await source.read(Number.MAX_SAFE_INTEGER)) yield chunk;
}
