// ChaCha20-Poly1305 (RFC 8439) with a 16-byte tag appended, as age stores it.

import { createCipheriv, createDecipheriv } from 'node:crypto';

const TAG = 16;

export function aeadSeal(key: Buffer, nonce: Buffer, plaintext: Buffer): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** The plaintext, or undefined when the tag does not authenticate it. */
export function aeadOpen(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined;
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}

export const AEAD_TAG_BYTES = TAG;
