// Where the writer's bytes go when an archive is encrypted. The host that
// writes it holds no key that could read it back, so the two halves of a
// read-back are done while writing instead: the plaintext is fed, as it is
// produced, to the same strict reader and checker `verify` uses (every
// member's size and sha256 against the manifest), and the ciphertext is
// hashed on its way to the file, so that the file can be re-read and
// compared byte for byte before it gets its final name.

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { ArchiveError } from '../errors.ts';
import { AgeSealer } from './age/age-file.ts';
import { fileSha256 } from './file-sha256.ts';
import type { AgeRecipients } from './age/keys.ts';
import { verifyArchive, type VerifiedArchive } from './verify-archive.ts';

export interface SealedResult {
  /** sha256 of every byte written to the file (the age file). */
  sha256: string;
  /** The plaintext as the checker read it. */
  verified: VerifiedArchive;
}

export class EncryptedSink {
  readonly #sealer: AgeSealer;
  readonly #hash = createHash('sha256');
  readonly #plain = new PassThrough({ highWaterMark: 1024 * 1024 });
  readonly #checked: Promise<VerifiedArchive>;

  constructor(recipients: AgeRecipients, name: string, signal: AbortSignal | undefined) {
    this.#sealer = new AgeSealer(recipients);
    this.#checked = verifyArchive({ name, chunks: this.#plain }, { signal });
    // Awaited in finish(); a failure before that stops push() through the race there.
    this.#checked.catch(() => undefined);
  }

  /** The age header and payload nonce. */
  start(): Buffer[] {
    return this.#hashed([this.#sealer.start]);
  }

  /** Checks and seals `data`; resolves to the ciphertext to write. Waits while the checker is behind. */
  async push(data: Buffer): Promise<Buffer[]> {
    // Copied: the writer reuses its buffer before the checker has read it.
    if (!this.#plain.write(Buffer.from(data))) await Promise.race([once(this.#plain, 'drain'), this.#checked]);
    return this.#hashed(this.#sealer.push(data));
  }

  /** The last chunk of ciphertext. */
  end(): Buffer[] {
    return this.#hashed([this.#sealer.end()]);
  }

  /** Once everything was written: the checker's verdict and the ciphertext's sha256. */
  async finish(): Promise<SealedResult> {
    this.#plain.end();
    const verified = await this.#checked;
    return { sha256: this.#hash.digest('hex'), verified };
  }

  /** Stops the checker after a failure. */
  abort(): void {
    this.#plain.destroy();
  }

  #hashed(chunks: Buffer[]): Buffer[] {
    for (const chunk of chunks) this.#hash.update(chunk);
    return chunks;
  }
}

/** Re-reads the written file and compares its sha256 with the one computed while writing it. */
export async function checkCiphertext(path: string, expectedSha256: string, signal?: AbortSignal): Promise<void> {
  const actual = await fileSha256(path, signal);
  if (actual !== expectedSha256) {
    throw new ArchiveError(`${path} differs from what was written (sha256 ${actual}, expected ${expectedSha256}): the disk did not keep it`, {
      hint: 'check the disk under BACKUP_ROOT, then run the backup again',
    });
  }
}
