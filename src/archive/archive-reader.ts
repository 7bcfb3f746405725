// A strict streaming reader of hossadm archives. It accepts exactly what the
// writer produces: manifest.json first, then regular files only (with PAX
// extended headers for long or non-ASCII names), safe relative names, no
// duplicates, every header checksum right, zero padding, the end-of-archive
// marker, and nothing after it but zero blocks. Anything else is an
// ArchiveError that names the member it concerns, without buffering members.

import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ArchiveError, HossError } from '../errors.ts';
import { abortError, throwIfAborted } from './abort.ts';
import { MANIFEST_MAX_BYTES, MANIFEST_NAME } from './archive-manifest.ts';
import type { AgeIdentities } from './age/keys.ts';
import { openArchiveBytes, type ArchiveInput } from './archive-bytes.ts';
import { ByteSource } from './byte-source.ts';
import { CompressedDataError, decodeFrames } from './frame-decoder.ts';
import { memberNameProblem } from './member-name.ts';
import { BLOCK_SIZE, HeaderError, PAX_DATA_LIMIT, isZeroBlock, paddedSize, parseHeader, parsePaxData, sha256FromComment } from './tar-header.ts';

export interface ArchiveMember {
  readonly name: string;
  /** Uncompressed size in bytes. */
  readonly size: number;
  /**
   * The member's bytes. Consume it, or resume() it to skip, before asking
   * for the next member; asking early skips whatever is left unread.
   */
  readonly stream: Readable;
  /** sha256 the member's own header declares (manifest.json's does), if any. */
  readonly declaredSha256: string | undefined;
}

export interface ReadArchiveOptions {
  signal?: AbortSignal | undefined;
  /** Keys that open an archive encrypted with age; without them such an archive is a ConfigError. */
  identities?: AgeIdentities | undefined;
}

/**
 * A header that is damaged or missing. `index` is the member's position
 * (0 is manifest.json), so a caller that knows the expected order can name it.
 */
export class ArchiveHeaderError extends ArchiveError {
  readonly index: number;
  readonly previous: string | undefined;
  /** missing: the archive ends cleanly where this header should start; cut: it ends inside it. */
  readonly problem: 'missing' | 'cut' | 'damaged';
  constructor(message: string, position: { index: number; previous: string | undefined }, problem: ArchiveHeaderError['problem'], cause?: unknown) {
    super(message, { cause });
    this.index = position.index;
    this.previous = position.previous;
    this.problem = problem;
  }
}

const READ_CHUNK = 256 * 1024;
const TYPE_LABEL: Readonly<Record<string, string>> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '5': 'directory',
  '6': 'FIFO',
  '7': 'contiguous file',
  g: 'global PAX header',
  L: 'GNU long name',
  K: 'GNU long link',
  S: 'GNU sparse file',
};

/** Members of the archive at `input` (a path, or a stream being written), in order, each streamed. */
export async function* readArchiveMembers(input: ArchiveInput, options: ReadArchiveOptions = {}): AsyncGenerator<ArchiveMember, void, undefined> {
  const { signal } = options;
  throwIfAborted(signal);
  const opened = await openArchiveBytes(input, options.identities);
  const path = opened.name;
  const tar = new ByteSource(decodeFrames(opened.source, opened.codec));
  const position = { index: 0, previous: undefined as string | undefined };
  const names = new Set<string>();
  let body: MemberBody | undefined;
  try {
    for (;;) {
      throwIfAborted(signal);
      const header = await readMemberHeader(tar, position, path);
      if (!header) break;
      if (names.has(header.name)) throw new ArchiveError(`${header.name} appears twice in the archive`, { member: header.name });
      names.add(header.name);
      body = new MemberBody(tar, header.name, header.size, path, signal);
      yield { name: header.name, size: header.size, stream: body.stream, declaredSha256: header.sha256 };
      await body.finish();
      const padding = await readWithin(tar, paddedSize(header.size) - header.size, header.name, path);
      if (!isZeroBlock(padding)) throw new ArchiveError(`${header.name}: the padding after its data is not zero`, { member: header.name });
      position.previous = header.name;
      position.index++;
    }
    await expectOnlyZeros(tar, path);
  } finally {
    body?.stream.destroy();
    await tar.close().catch(() => undefined);
    opened.close();
  }
}

/** The text of manifest.json, reading nothing past it. */
export async function readManifest(input: ArchiveInput, options: ReadArchiveOptions = {}): Promise<string> {
  // Awaited inside the loop: leaving it closes the member stream.
  for await (const member of readArchiveMembers(input, options)) return await readManifestText(member, options.signal);
  throw new ArchiveError(`${typeof input === 'string' ? input : input.name} holds no members`);
}

/** Reads member 0 into a string, refusing sizes no manifest has. */
export async function readManifestText(member: ArchiveMember, signal?: AbortSignal): Promise<string> {
  if (member.size > MANIFEST_MAX_BYTES) {
    throw new ArchiveError(`${MANIFEST_NAME}: ${member.size} bytes is more than a manifest can be`, { member: MANIFEST_NAME });
  }
  const chunks: Buffer[] = [];
  await pipeline(member.stream, new Writable({ write: (chunk: Buffer, _encoding, done) => (chunks.push(chunk), done()) }), { signal });
  try {
    // ignoreBOM keeps a BOM in the text, so the text hashes like the bytes.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new ArchiveError(`${MANIFEST_NAME}: not valid UTF-8`, { member: MANIFEST_NAME });
  }
}

interface MemberHeader {
  name: string;
  size: number;
  sha256: string | undefined;
}

/** The next member's header, or undefined at the end-of-archive marker. */
async function readMemberHeader(tar: ByteSource, position: { index: number; previous: string | undefined }, path: string): Promise<MemberHeader | undefined> {
  const where = position.index === 0 ? 'the first member' : `the member after ${position.previous}`;
  const headerError = (problem: string, cut: boolean, cause?: unknown) =>
    new ArchiveHeaderError(`the header of ${where} ${problem}`, position, cut ? 'cut' : 'damaged', cause);
  const readBlock = async (): Promise<Buffer> => {
    let block: Buffer;
    try {
      block = await tar.readUpTo(BLOCK_SIZE);
    } catch (error) {
      if (error instanceof CompressedDataError) {
        throw headerError(error.kind === 'truncated' ? 'is cut off: the archive is truncated' : `is damaged (${error.message})`, error.kind === 'truncated', error);
      }
      throw asArchiveError(error, path);
    }
    if (block.length === 0) {
      throw position.index === 0
        ? new ArchiveHeaderError(`${path} holds no tar data`, position, 'missing')
        : new ArchiveHeaderError(`the archive ends after ${position.previous} without an end-of-archive marker: it is truncated`, position, 'missing');
    }
    if (block.length < BLOCK_SIZE) throw headerError('is cut off: the archive is truncated', true);
    return block;
  };

  let block = await readBlock();
  if (isZeroBlock(block)) {
    const second = await tar.readUpTo(BLOCK_SIZE).catch((error: unknown) => {
      throw asArchiveError(error, path);
    });
    if (second.length < BLOCK_SIZE) throw new ArchiveError('the end-of-archive marker is cut off: the archive is truncated');
    if (!isZeroBlock(second)) throw headerError('is damaged (a zero block where a header should be)', false);
    return undefined;
  }
  let pax: Map<string, string> | undefined;
  for (;;) {
    let parsed: ReturnType<typeof parseHeader>;
    try {
      parsed = parseHeader(block);
    } catch (error) {
      if (error instanceof HeaderError) throw headerError(`is damaged (${error.message})`, false, error);
      throw error;
    }
    const name = pax?.get('path') ?? parsed.name;
    if (parsed.type === 'x') {
      if (pax) throw headerError('is damaged (two PAX headers in a row)', false);
      if (parsed.size > PAX_DATA_LIMIT) throw headerError(`is damaged (a ${parsed.size}-byte PAX header)`, false);
      const data = await readWithinHeader(tar, paddedSize(parsed.size), headerError, path);
      if (!isZeroBlock(data.subarray(parsed.size))) throw headerError('is damaged (non-zero padding after its PAX header)', false);
      try {
        pax = parsePaxData(data.subarray(0, parsed.size));
      } catch (error) {
        throw headerError(`is damaged (${(error as Error).message})`, false, error);
      }
      block = await readBlock();
      continue;
    }
    if (position.index === 0 && name !== MANIFEST_NAME) {
      throw new ArchiveError(`${path} is not a hossadm archive: its first member is ${JSON.stringify(name)}, not ${MANIFEST_NAME}`, { member: name });
    }
    if (parsed.type !== '0' && parsed.type !== '\u0000') {
      const label = TYPE_LABEL[parsed.type] ?? `type ${JSON.stringify(parsed.type)}`;
      throw new ArchiveError(`${name}: ${label} entries are not allowed in a hossadm archive (regular files only)`, { member: name });
    }
    const problem = memberNameProblem(name);
    if (problem) throw new ArchiveError(`unsafe member name ${JSON.stringify(name)}: it ${problem}`, { member: name });
    const paxSize = pax?.get('size');
    if (paxSize !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(paxSize)) throw headerError('is damaged (bad PAX size)', false);
    const size = paxSize === undefined ? parsed.size : Number(paxSize);
    if (!Number.isSafeInteger(size)) throw headerError('is damaged (size out of range)', false);
    return { name, size, sha256: sha256FromComment(pax?.get('comment')) };
  }
}

async function readWithinHeader(
  tar: ByteSource,
  count: number,
  headerError: (problem: string, cut: boolean, cause?: unknown) => ArchiveHeaderError,
  path: string,
): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await tar.readUpTo(count);
  } catch (error) {
    if (error instanceof CompressedDataError) {
      throw headerError(error.kind === 'truncated' ? 'is cut off: the archive is truncated' : `is damaged (${error.message})`, error.kind === 'truncated', error);
    }
    throw asArchiveError(error, path);
  }
  if (data.length < count) throw headerError('is cut off: the archive is truncated', true);
  return data;
}

/** Bytes belonging to member `name` (its padding); errors name it. */
async function readWithin(tar: ByteSource, count: number, name: string, path: string): Promise<Buffer> {
  let data: Buffer;
  try {
    data = await tar.readUpTo(count);
  } catch (error) {
    throw memberError(error, name, path);
  }
  if (data.length < count) throw truncatedIn(name);
  return data;
}

async function expectOnlyZeros(tar: ByteSource, path: string): Promise<void> {
  try {
    for (let chunk = await tar.read(READ_CHUNK); chunk !== null; chunk = await tar.read(READ_CHUNK)) {
      if (!isZeroBlock(chunk)) throw new ArchiveError('unexpected data after the end-of-archive marker');
    }
  } catch (error) {
    if (error instanceof CompressedDataError) {
      throw new ArchiveError(`unexpected data after the end-of-archive marker (${error.message})`, { cause: error });
    }
    throw asArchiveError(error, path);
  }
}

function truncatedIn(name: string): ArchiveError {
  return new ArchiveError(`archive ends inside member ${name}: it is truncated`, { member: name });
}

function memberError(error: unknown, name: string, path: string): HossError {
  if (error instanceof CompressedDataError) {
    if (error.kind === 'truncated') return truncatedIn(name);
    return new ArchiveError(`${name}: ${error.message}`, { member: name, cause: error });
  }
  return asArchiveError(error, path);
}

function asArchiveError(error: unknown, path: string): HossError {
  if (error instanceof HossError) return error;
  return new ArchiveError(`cannot read ${path}: ${(error as Error).message ?? String(error)}`, { cause: error });
}

/** The readable side of one member's data, pulled from the tar stream on demand. */
class MemberBody {
  readonly stream: Readable;
  readonly #tar: ByteSource;
  readonly #name: string;
  readonly #path: string;
  readonly #signal: AbortSignal | undefined;
  #remaining: number;
  #reading: Promise<void> | undefined;
  #failure: HossError | undefined;
  #finishing = false;

  constructor(tar: ByteSource, name: string, size: number, path: string, signal: AbortSignal | undefined) {
    this.#tar = tar;
    this.#name = name;
    this.#path = path;
    this.#signal = signal;
    this.#remaining = size;
    this.stream = new Readable({ highWaterMark: READ_CHUNK, read: () => this.#pull() });
    // The same error is also thrown by the member iterator, so a consumer that
    // only iterates (or skipped with resume()) is not crashed by an unheard 'error'.
    this.stream.on('error', () => undefined);
    if (size === 0) this.stream.push(null);
  }

  /** Settles this member: waits for a read in progress, skips the rest, reports its error. */
  async finish(): Promise<void> {
    this.#finishing = true;
    while (this.#reading) await this.#reading;
    if (this.#failure) throw this.#failure;
    const skipped = this.#remaining > 0;
    try {
      while (this.#remaining > 0) {
        throwIfAborted(this.#signal);
        const chunk = await this.#tar.read(Math.min(this.#remaining, READ_CHUNK));
        if (chunk === null) throw truncatedIn(this.#name);
        this.#remaining -= chunk.length;
      }
    } catch (error) {
      const failure = memberError(error, this.#name, this.#path);
      this.stream.destroy(failure);
      throw failure;
    }
    // A reader that was still attached must not mistake the cut for the end.
    if (skipped) this.stream.destroy();
  }

  #pull(): void {
    if (this.#reading || this.#finishing || this.#remaining === 0) return;
    const reading = this.#readChunk();
    this.#reading = reading;
    void reading.finally(() => {
      if (this.#reading === reading) this.#reading = undefined;
    });
  }

  async #readChunk(): Promise<void> {
    let chunk: Buffer | null;
    try {
      if (this.#signal?.aborted) throw abortError(this.#signal);
      chunk = await this.#tar.read(Math.min(this.#remaining, READ_CHUNK));
      if (chunk === null) throw truncatedIn(this.#name);
    } catch (error) {
      this.#failure = memberError(error, this.#name, this.#path);
      this.stream.destroy(this.#failure);
      return;
    }
    this.#remaining -= chunk.length;
    // Cleared before push(): push may ask for the next chunk synchronously.
    this.#reading = undefined;
    this.stream.push(chunk);
    if (this.#remaining === 0) this.stream.push(null);
  }
}
