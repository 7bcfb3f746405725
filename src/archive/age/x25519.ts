// The age X25519 recipient type: the 16-byte file key wrapped for one
// public key with an ephemeral key pair, HKDF-SHA256 and ChaCha20-Poly1305
// (age-encryption.org/v1, "X25519 recipient stanza").

import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { aeadOpen, aeadSeal } from './aead.ts';

export const X25519_TYPE = 'X25519';
const LABEL = 'age-encryption.org/v1/X25519';
// DER prefixes of a raw 32-byte X25519 key as PKCS#8 and SubjectPublicKeyInfo.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
const ZERO_NONCE = Buffer.alloc(12);

export function privateKeyFromRaw(raw: Buffer): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** X25519, or undefined when the result is all zeros (a low-order point, which age refuses). */
function sharedSecret(privateKey: KeyObject, publicKey: KeyObject): Buffer | undefined {
  try {
    const secret = diffieHellman({ privateKey, publicKey });
    return secret.every((b) => b === 0) ? undefined : secret;
  } catch {
    return undefined;
  }
}

function wrapKey(secret: Buffer, share: Buffer, recipient: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.concat([share, recipient]), LABEL, 32));
}

/** One stanza's argument (the ephemeral share) and body (the wrapped file key). */
export function wrapFileKey(fileKey: Buffer, recipient: Buffer): { share: Buffer; body: Buffer } {
  const ephemeral = generateKeyPairSync('x25519');
  const share = rawPublicKey(ephemeral.publicKey);
  const secret = sharedSecret(ephemeral.privateKey, publicKeyFromRaw(recipient));
  if (!secret) throw new Error('the recipient public key is a low-order point');
  return { share, body: aeadSeal(wrapKey(secret, share, recipient), ZERO_NONCE, fileKey) };
}

/** The file key, or undefined when the stanza was not made for this identity. */
export function unwrapFileKey(share: Buffer, body: Buffer, identity: { privateKey: KeyObject; publicKey: Buffer }): Buffer | undefined {
  let sharePublic: KeyObject;
  try {
    sharePublic = publicKeyFromRaw(share);
  } catch {
    return undefined;
  }
  const secret = sharedSecret(identity.privateKey, sharePublic);
  if (!secret) return undefined;
  return aeadOpen(wrapKey(secret, share, identity.publicKey), ZERO_NONCE, body);
}
