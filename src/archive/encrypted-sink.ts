// Where the writer's bytes go when an archive is encrypted. The host that
// writes it holds no key that could read it back, so the two halves of a
// read-back are done while writing instead: the plaintext is fed, as it is
// produced, to the same strict reader and checker `verify` uses (every
// member's size and sha256 against the manifest), and the writer hashes the
// ciphertext on its way to the file, so that the file can be re-read and
// compared byte for byte before it gets its final name (checkFileKept).

import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { AgeSealer } from './age/age-file.ts';
import type { AgeRecipients } from './age/keys.ts';
import { verifyArchive, type VerifiedArchive } from './verify-archive.ts';

export interface SealedResult {
  /** The plaintext as the checker read it. */
  verified: VerifiedArchive;
}

export class EncryptedSink {
  readonly #sealer: AgeSealer;
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
    return [this.#sealer.start];
  }

  /** Checks and seals `data`; resolves to the ciphertext to write. Waits while the checker is behind. */
  async push(data: Buffer): Promise<Buffer[]> {
    // Copied: the writer reuses its buffer before the checker has read it.
    if (!this.#plain.write(Buffer.from(data))) await Promise.race([once(this.#plain, 'drain'), this.#checked]);
    return this.#sealer.push(data);
  }

  /** The last chunk of ciphertext. */
  end(): Buffer[] {
    return [this.#sealer.end()];
  }

  /** Once everything was written: the checker's verdict. */
  async finish(): Promise<SealedResult> {
    this.#plain.end();
    return { verified: await this.#checked };
  }

  /** Stops the checker after a failure. */
  abort(): void {
    this.#plain.destroy();
  }
}
