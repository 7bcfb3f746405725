// Assembles the final archive from staged members. The result is a standard
// tar, compressed as a whole: compressed frames (zstd) and members (gzip)
// concatenate, and decoders output the concatenation. So each tar header,
// each padding and the end marker are compressed as small frames of their
// own, and each staged member's compressed bytes are copied in verbatim,
// never decompressed again. Layout, one frame or more per line:
//
//   header(manifest.json)  manifest data  padding
//   header(member 1)       staged bytes   padding      (for each member)
//   end-of-archive blocks

import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { PreflightError } from '../errors.ts';
import { throwIfAborted } from './abort.ts';
import { MANIFEST_NAME, checkArchiveManifest, type ManifestMemberEntry } from './archive-manifest.ts';
import type { AgeRecipients } from './age/keys.ts';
import { writeFileAtomically } from './atomic-file.ts';
import { EncryptedSink, type SealedResult } from './encrypted-sink.ts';
import { compressSmall, sniffCodec, type Codec } from './codec.ts';
import { memberNameProblem } from './member-name.ts';
import { END_OF_ARCHIVE, buildMemberHeader, paddingFor } from './tar-header.ts';

export interface StagedArchiveMember {
  name: string;
  /** File written by stageMember with the same codec. */
  stagedPath: string;
  /** Uncompressed size and sha256, as stageMember reported them. */
  size: number;
  sha256: string;
}

export interface WriteArchiveOptions {
  finalPath: string;
  codec: Codec;
  /** Becomes manifest.json; its `members` must list exactly `members` (name, size, sha256). */
  manifest: object;
  members: readonly StagedArchiveMember[];
  /** Modification time of every member. */
  mtime: Date;
  signal?: AbortSignal | undefined;
  /** Replace an existing file at finalPath; default false. */
  overwrite?: boolean;
  /** Encrypt the whole file with age to these recipients (see encrypted-sink.ts for how it is checked). */
  encryptTo?: AgeRecipients | undefined;
}

export interface WrittenArchive {
  path: string;
  /** Bytes in the file. */
  bytes: number;
  /** sha256 of every byte written to the file, for the re-read that proves the disk kept it. */
  sha256: string;
  /** For an encrypted archive: the ciphertext's sha256 and the plaintext as checked while it was written. */
  sealed?: SealedResult;
}

const COPY_BUFFER = 1024 * 1024;

/**
 * Writes `<finalPath>.partial` (mode 0600), flushes it and renames it to
 * `finalPath`. On any failure or abort the partial file is removed and no
 * file appears under the final name.
 */
export async function writeArchive(options: WriteArchiveOptions): Promise<WrittenArchive> {
  const { finalPath, codec, mtime, signal } = options;
  throwIfAborted(signal);
  const manifestText = `${JSON.stringify(options.manifest, null, 2)}\n`;
  const ordered = inManifestOrder(checkArchiveManifest(JSON.parse(manifestText)).members, options.members);
  for (const member of ordered) await checkStagedFile(member, codec);
  if (!options.overwrite && (await exists(finalPath))) {
    throw new PreflightError(`${finalPath} already exists`, { hint: 'archive names carry the time to the second; wait a second and retry' });
  }

  let sealed: SealedResult | undefined;
  let sha256 = '';
  const bytes = await writeFileAtomically(
    finalPath,
    async (out) => {
      const sink = options.encryptTo && new EncryptedSink(options.encryptTo, finalPath, signal);
      try {
        const writer = new FrameWriter(out, codec, sink);
        await writer.start();
        const manifestBytes = Buffer.from(manifestText, 'utf8');
        // Nothing else vouches for the manifest in an uncompressed archive.
        const manifestSha256 = createHash('sha256').update(manifestBytes).digest('hex');
        await writer.frame(buildMemberHeader({ name: MANIFEST_NAME, size: manifestBytes.length, mtime, sha256: manifestSha256 }));
        await writer.frame(manifestBytes);
        await writer.frame(paddingFor(manifestBytes.length));
        for (const member of ordered) {
          throwIfAborted(signal);
          await writer.frame(buildMemberHeader({ name: member.name, size: member.size, mtime }));
          // An empty member's staged file is an empty frame; left out, so that
          // damage there cannot surface as a fault of the next member.
          if (member.size > 0) await writer.copy(member.stagedPath, signal);
          await writer.frame(paddingFor(member.size));
        }
        await writer.frame(END_OF_ARCHIVE);
        await writer.end();
        if (sink) sealed = await sink.finish();
        sha256 = writer.sha256();
        return writer.bytes;
      } finally {
        sink?.abort();
      }
    },
    { mode: 0o600, overwrite: options.overwrite ?? false },
  );
  return { path: finalPath, bytes, sha256, ...(sealed ? { sealed } : {}) };
}

/** The staged members in manifest order; a mismatch is a bug in the caller, so a plain Error. */
function inManifestOrder(listed: readonly ManifestMemberEntry[], staged: readonly StagedArchiveMember[]): StagedArchiveMember[] {
  const byName = new Map<string, StagedArchiveMember>();
  for (const member of staged) {
    const problem = memberNameProblem(member.name);
    if (problem) throw new Error(`member name ${JSON.stringify(member.name)} ${problem}`);
    if (byName.has(member.name)) throw new Error(`member ${member.name} given twice`);
    byName.set(member.name, member);
  }
  const ordered = listed.map((entry) => {
    const member = byName.get(entry.name);
    if (!member) throw new Error(`the manifest lists ${entry.name} but no staged file was given for it`);
    if (member.size !== entry.size || member.sha256 !== entry.sha256) {
      throw new Error(`the manifest's size or sha256 for ${entry.name} differs from the staged member's`);
    }
    return member;
  });
  if (ordered.length !== staged.length) {
    const unlisted = staged.find((member) => !listed.some((entry) => entry.name === member.name));
    throw new Error(`staged member ${unlisted?.name} is not listed in the manifest`);
  }
  return ordered;
}

// Cheap guards against staging with another codec, which would produce a
// file that every decoder rejects half-way.
async function checkStagedFile(member: StagedArchiveMember, codec: Codec): Promise<void> {
  const info = await stat(member.stagedPath);
  if (codec === 'none') {
    if (info.size !== member.size) throw new Error(`staged ${member.name} has ${info.size} bytes, expected ${member.size}`);
    return;
  }
  const handle = await open(member.stagedPath, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (sniffCodec(head.subarray(0, bytesRead)) !== codec) throw new Error(`staged ${member.name} is not ${codec} data`);
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? false : Promise.reject(error)),
  );
}

class FrameWriter {
  bytes = 0;
  readonly #out: FileHandle;
  readonly #codec: Codec;
  readonly #sink: EncryptedSink | undefined;
  readonly #hash = createHash('sha256');
  #buffer: Buffer | undefined;

  sha256(): string {
    return this.#hash.digest('hex');
  }

  constructor(out: FileHandle, codec: Codec, sink: EncryptedSink | undefined) {
    this.#out = out;
    this.#codec = codec;
    this.#sink = sink;
  }

  async start(): Promise<void> {
    for (const data of this.#sink?.start() ?? []) await this.#writeFile(data);
  }

  async end(): Promise<void> {
    for (const data of this.#sink?.end() ?? []) await this.#writeFile(data);
  }

  /** Writes `data` as one frame of its own; nothing for empty data. */
  async frame(data: Buffer): Promise<void> {
    if (data.length > 0) await this.#write(compressSmall(this.#codec, data));
  }

  /** Appends a staged file's bytes unchanged. */
  async copy(path: string, signal: AbortSignal | undefined): Promise<void> {
    const input = await open(path, 'r');
    try {
      this.#buffer ??= Buffer.allocUnsafe(COPY_BUFFER);
      for (;;) {
        throwIfAborted(signal);
        const { bytesRead } = await input.read(this.#buffer, 0, this.#buffer.length, null);
        if (bytesRead === 0) return;
        await this.#write(this.#buffer.subarray(0, bytesRead));
      }
    } finally {
      await input.close();
    }
  }

  async #write(data: Buffer): Promise<void> {
    if (!this.#sink) return this.#writeFile(data);
    for (const sealed of await this.#sink.push(data)) await this.#writeFile(sealed);
  }

  async #writeFile(data: Buffer): Promise<void> {
    this.#hash.update(data);
    for (let offset = 0; offset < data.length; ) {
      const { bytesWritten } = await this.#out.write(data, offset, data.length - offset, null);
      offset += bytesWritten;
    }
    this.bytes += data.length;
  }
}
