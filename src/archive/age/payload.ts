// The age payload: a 16-byte nonce, then the plaintext in 64 KiB chunks,
// each sealed with ChaCha20-Poly1305 under a key derived from the file key
// and that nonce; a chunk's nonce is its 11-byte big-endian counter and a
// last-chunk flag, so cutting, reordering or extending the file fails
// authentication (the STREAM construction).

import { hkdfSync, randomBytes } from 'node:crypto';
import { ArchiveError } from '../../errors.ts';
import type { ByteSource } from '../byte-source.ts';
import { AEAD_TAG_BYTES, aeadOpen, aeadSeal } from './aead.ts';

export const CHUNK_BYTES = 64 * 1024;
const NONCE_BYTES = 16;

function payloadKey(fileKey: Buffer, nonce: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, nonce, 'payload', 32));
}

function chunkNonce(counter: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * Seals plaintext as it comes. A full chunk is held until more plaintext
 * arrives, because only then is it known not to be the last; so at most one
 * chunk of plaintext is ever held.
 */
export class PayloadSealer {
  readonly #key: Buffer;
  #counter = 0;
  // Copied in: callers reuse the buffers they push.
  readonly #held = Buffer.allocUnsafe(CHUNK_BYTES);
  #heldBytes = 0;

  /** `start` (the payload nonce) goes first into the file. */
  readonly start: Buffer;

  constructor(fileKey: Buffer) {
    this.start = randomBytes(NONCE_BYTES);
    this.#key = payloadKey(fileKey, this.start);
  }

  /** Sealed chunks that `data` completes. */
  push(data: Buffer): Buffer[] {
    const out: Buffer[] = [];
    for (let offset = 0; offset < data.length; ) {
      if (this.#heldBytes === CHUNK_BYTES) out.push(this.#seal(false));
      const copied = data.copy(this.#held, this.#heldBytes, offset, offset + Math.min(CHUNK_BYTES - this.#heldBytes, data.length - offset));
      this.#heldBytes += copied;
      offset += copied;
    }
    return out;
  }

  /** The last chunk (empty plaintext only when the whole payload is empty). */
  end(): Buffer {
    return this.#seal(true);
  }

  #seal(last: boolean): Buffer {
    const sealed = aeadSeal(this.#key, chunkNonce(this.#counter++, last), this.#held.subarray(0, this.#heldBytes));
    this.#heldBytes = 0;
    return sealed;
  }
}

/**
 * The plaintext of the payload at `source`, one authenticated chunk at a
 * time: nothing is yielded before its tag has been checked, so damage or a
 * cut is an ArchiveError before any byte of the chunk it hit is used.
 */
export async function* openPayload(source: ByteSource, fileKey: Buffer): AsyncGenerator<Buffer, void, undefined> {
  const nonce = await source.readUpTo(NONCE_BYTES);
  if (nonce.length < NONCE_BYTES) throw new ArchiveError('the encrypted archive is truncated: it ends before its payload');
  const key = payloadKey(fileKey, nonce);
  for (let counter = 0; ; counter++) {
    const sealed = await source.readUpTo(CHUNK_BYTES + AEAD_TAG_BYTES);
    const last = sealed.length < CHUNK_BYTES + AEAD_TAG_BYTES || (await source.atEnd());
    const plaintext = aeadOpen(key, chunkNonce(counter, last), sealed);
    if (!plaintext || (last && plaintext.length === 0 && counter > 0)) {
      throw new ArchiveError(`the encrypted archive is damaged or truncated: chunk ${counter} (from plaintext byte ${counter * CHUNK_BYTES}) fails authentication`, {
        hint: 'use another copy of the archive',
      });
    }
    if (plaintext.length > 0) yield plaintext;
    if (last) return;
  }
}
