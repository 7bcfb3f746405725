// Whole age files: encrypting to X25519 recipients as a stream, and opening
// a file with identities. Only the X25519 recipient type is supported,
// which is what age-keygen makes; other stanzas (such as grease) are skipped.

import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { ArchiveError, IdentityMismatchError } from '../../errors.ts';
import type { ByteSource } from '../byte-source.ts';
import { AGE_MAGIC, buildHeader, decodeBase64, encodeBase64, parseHeader } from './header.ts';
import type { AgeIdentities, AgeRecipients } from './keys.ts';
import { PayloadSealer, openPayload } from './payload.ts';
import { X25519_TYPE, unwrapFileKey, wrapFileKey } from './x25519.ts';

const FILE_KEY_BYTES = 16;

/** Whether a file's first bytes are an age header. */
export function isAgeFile(head: Buffer): boolean {
  return head.length >= AGE_MAGIC.length && head.toString('latin1', 0, AGE_MAGIC.length) === AGE_MAGIC;
}

/** An encryptor fed by hand: `start` first, then what `push` returns, then `end()`. */
export class AgeSealer {
  readonly start: Buffer;
  readonly #payload: PayloadSealer;

  constructor(recipients: AgeRecipients) {
    const fileKey = randomBytes(FILE_KEY_BYTES);
    const stanzas = recipients.keys.map((recipient) => {
      const { share, body } = wrapFileKey(fileKey, recipient.publicKey);
      return { type: X25519_TYPE, args: [encodeBase64(share)], body };
    });
    this.#payload = new PayloadSealer(fileKey);
    this.start = Buffer.concat([buildHeader(stanzas, fileKey), this.#payload.start]);
  }

  push(data: Buffer): Buffer[] {
    return this.#payload.push(data);
  }

  end(): Buffer {
    return this.#payload.end();
  }
}

/** A Transform whose output is an age file of its input. */
export function createEncryptStream(recipients: AgeRecipients): Transform {
  const sealer = new AgeSealer(recipients);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!started) {
        started = true;
        this.push(sealer.start);
      }
      for (const sealed of sealer.push(chunk)) this.push(sealed);
      callback();
    },
    flush(callback) {
      if (!started) this.push(sealer.start);
      callback(null, sealer.end());
    },
  });
}

/**
 * The plaintext of the age file at `source`. `what` names the file in
 * messages. Errors are ArchiveErrors: no identity opens it (encrypted to
 * other keys, or the header damaged), a header MAC that does not match, a
 * damaged or cut payload.
 */
export async function* openAgeFile(source: ByteSource, identities: AgeIdentities, what: string): AsyncGenerator<Buffer, void, undefined> {
  const header = await parseHeader(source);
  const fileKey = findFileKey(header.stanzas, identities);
  if (!fileKey) {
    throw new IdentityMismatchError(`no identity in ${identities.file} opens ${what}: it was encrypted to other recipients, or its header is damaged`, {
      hint: 'give the identity file whose public key was among the recipients at backup time',
    });
  }
  if (!header.macMatches(fileKey)) throw new ArchiveError(`the age header of ${what} is damaged or was altered (its MAC does not match)`, { hint: 'use another copy of the archive' });
  yield* openPayload(source, fileKey);
}

function findFileKey(stanzas: readonly { type: string; args: string[]; body: Buffer }[], identities: AgeIdentities): Buffer | undefined {
  for (const stanza of stanzas) {
    if (stanza.type !== X25519_TYPE) continue;
    const share = stanza.args.length === 1 ? decodeBase64(stanza.args[0]!) : undefined;
    if (share?.length !== 32 || stanza.body.length !== 32) {
      throw new ArchiveError('the age header is damaged: a malformed X25519 stanza', { hint: 'use another copy of the archive' });
    }
    for (const identity of identities.keys) {
      const fileKey = unwrapFileKey(share, stanza.body, identity);
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}
