// Loading age keys from files, the only way hossadm takes them (never from
// the command line, so no key shows in argv or a shell history):
//   recipients: "age1…" public keys, one a line, as `age -R` reads them;
//   identities: "AGE-SECRET-KEY-1…" lines, as age-keygen writes them.
// Blank lines and "#" comments are allowed in both. A file that cannot be
// used is a ConfigError naming the file and the line, never the key itself.

import { stat, readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { bech32Decode } from './bech32.ts';
import { privateKeyFromRaw, rawPublicKey } from './x25519.ts';

export interface AgeRecipient {
  /** Raw X25519 public key. */
  readonly publicKey: Buffer;
}

export interface AgeIdentity {
  readonly privateKey: KeyObject;
  /** Its raw X25519 public key (part of the wrapping key's salt). */
  readonly publicKey: Buffer;
}

/** Keys read from one file; `file` names it in messages. */
export interface AgeRecipients {
  readonly file: string;
  readonly keys: readonly AgeRecipient[];
}

export interface AgeIdentities {
  readonly file: string;
  readonly keys: readonly AgeIdentity[];
}

/** The environment settings (process environment or the stack's .env) that name the files. */
export const RECIPIENTS_SETTING = 'HOSSADM_AGE_RECIPIENTS';
export const IDENTITY_SETTING = 'HOSSADM_AGE_IDENTITY';

function keyLines(text: string): { line: number; value: string }[] {
  return text
    .split('\n')
    .map((raw, index) => ({ line: index + 1, value: raw.replace(/\r$/, '').trim() }))
    .filter(({ value }) => value !== '' && !value.startsWith('#'));
}

export function parseRecipients(text: string, file: string): AgeRecipients {
  const keys = keyLines(text).map(({ line, value }) => {
    const decoded = bech32Decode(value);
    if (decoded?.hrp !== 'age' || decoded.data.length !== 32) {
      throw new ConfigError(`${file}, line ${line}: not an age X25519 recipient (an "age1…" public key)`, {
        hint: 'put the public keys age-keygen printed ("Public key: age1…"), one a line; never the secret key',
      });
    }
    return { publicKey: decoded.data };
  });
  if (keys.length === 0) throw new ConfigError(`${file} names no recipient`, { hint: 'add one "age1…" public key a line (age-keygen -y KEYFILE prints it)' });
  return { file, keys };
}

export function parseIdentities(text: string, file: string): AgeIdentities {
  const keys = keyLines(text).map(({ line, value }) => {
    const decoded = bech32Decode(value);
    if (decoded?.hrp !== 'AGE-SECRET-KEY-' || decoded.data.length !== 32) {
      throw new ConfigError(`${file}, line ${line}: not an age X25519 identity (an "AGE-SECRET-KEY-1…" line)`, {
        hint: 'give the key file age-keygen wrote; a passphrase-protected or plugin identity is not supported',
      });
    }
    const privateKey = privateKeyFromRaw(decoded.data);
    return { privateKey, publicKey: rawPublicKey(privateKey) };
  });
  if (keys.length === 0) throw new ConfigError(`${file} holds no identity`, { hint: 'give the key file age-keygen wrote' });
  return { file, keys };
}

async function readKeyFile(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read the ${what} file ${file}: ${code ?? (error as Error).message}`, { cause: error });
  }
}

export async function loadRecipients(file: string): Promise<AgeRecipients> {
  return parseRecipients(await readKeyFile(file, 'age recipients'), file);
}

/** Refuses a file that group or others may read or write, as ssh does with a private key. */
export async function loadIdentities(file: string): Promise<AgeIdentities> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot read the age identity file ${file}: ${error.code ?? error.message}`, { cause: error });
  });
  if ((info.mode & 0o077) !== 0) {
    throw new ConfigError(`the age identity file ${file} is readable by others (mode ${(info.mode & 0o777).toString(8).padStart(4, '0')})`, {
      hint: `chmod 600 ${file}`,
    });
  }
  return parseIdentities(await readKeyFile(file, 'age identity'), file);
}
