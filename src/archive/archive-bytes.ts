// The compressed tar bytes of an archive, from a file or a stream: the bytes
// themselves, or, for an archive encrypted with age, its plaintext as it is
// opened chunk by chunk. Which one is told by the first bytes, never by the
// file name.

import { createReadStream } from 'node:fs';
import { ArchiveError, ConfigError, HossError } from '../errors.ts';
import { openAgeFile, isAgeFile } from './age/age-file.ts';
import { IDENTITY_SETTING, type AgeIdentities } from './age/keys.ts';
import { ByteSource } from './byte-source.ts';
import { CODEC_SNIFF_BYTES, codecOf, type Codec } from './codec.ts';

/** An archive that is not (or not yet) a file: `name` stands for it in messages. */
export interface ArchiveStream {
  name: string;
  chunks: AsyncIterable<Buffer>;
}
export type ArchiveInput = string | ArchiveStream;

export interface OpenedArchive {
  name: string;
  codec: Codec;
  encrypted: boolean;
  /** The compressed tar bytes (plaintext). */
  source: ByteSource;
  /** Releases the file, if one was opened. */
  close(): void;
}

const READ_CHUNK = 256 * 1024;

export async function openArchiveBytes(input: ArchiveInput, identities: AgeIdentities | undefined): Promise<OpenedArchive> {
  const file = typeof input === 'string' ? createReadStream(input, { highWaterMark: READ_CHUNK }) : undefined;
  const name = typeof input === 'string' ? input : input.name;
  const close = () => file?.destroy();
  try {
    const raw = new ByteSource(file ?? (input as ArchiveStream).chunks);
    const head = await peek(raw, name, true);
    if (!isAgeFile(head)) return { name, codec: codecOf(head, name), encrypted: false, source: raw, close };
    if (!identities) {
      throw new ConfigError(`${name} is encrypted with age and no identity was given to open it`, {
        hint: `give --identity <file> (or set ${IDENTITY_SETTING}) naming the key file made by age-keygen`,
      });
    }
    const plain = new ByteSource(openAgeFile(raw, identities, name));
    return { name, codec: codecOf(await peek(plain, name, false), name), encrypted: true, source: plain, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** The first bytes, given back to the source. */
async function peek(source: ByteSource, name: string, opening: boolean): Promise<Buffer> {
  let head: Buffer;
  try {
    head = await source.readUpTo(CODEC_SNIFF_BYTES);
  } catch (error) {
    if (error instanceof HossError) throw error;
    throw new ArchiveError(`cannot ${opening ? 'open' : 'read'} ${name}: ${(error as Error).message}`, { cause: error });
  }
  source.unshift(head);
  return head;
}

/** Whether the file at `path` is an age file, from its first bytes (false when unreadable). */
export async function isEncryptedArchive(path: string): Promise<boolean> {
  const file = createReadStream(path, { start: 0, end: 63 });
  try {
    const chunks: Buffer[] = [];
    for await (const chunk of file) chunks.push(chunk as Buffer);
    return isAgeFile(Buffer.concat(chunks));
  } catch {
    return false;
  } finally {
    file.destroy();
  }
}
