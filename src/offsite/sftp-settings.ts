// How an SFTP target is reached, from the environment only (never argv):
//   HOSSADM_SFTP_KEY_FILE          private key (OpenSSH or PEM); not readable
//                                  by group or others. Unset: ~/.ssh/id_ed25519,
//                                  id_ecdsa, id_rsa, the first that exists
//   HOSSADM_SFTP_KEY_PASSPHRASE_FILE  the key's passphrase, when it has one
//   HOSSADM_SFTP_PASSWORD_FILE     a password (mode 600), or HOSSADM_SFTP_PASSWORD
//   HOSSADM_SFTP_KNOWN_HOSTS       known_hosts file with the server's key
//                                  (default ~/.ssh/known_hosts); an unknown or
//                                  changed host key is refused
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';

export interface SftpSettings {
  privateKey: Buffer | undefined;
  passphrase: string | undefined;
  password: string | undefined;
  knownHostsPath: string;
  knownHosts: string;
}

type Environment = Record<string, string | undefined>;

/** A secret file's text; refused when group or others may read it. */
async function secretFile(variable: string, path: string): Promise<Buffer> {
  let mode: number;
  let data: Buffer;
  try {
    mode = (await stat(path)).mode;
    data = await readFile(path);
  } catch (error) {
    throw new ConfigError(`cannot read ${variable} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(`${variable} ${path} is readable by others (mode ${(mode & 0o777).toString(8)})`, { hint: `chmod 600 ${path}` });
  }
  return data;
}

const firstLine = (data: Buffer) => data.toString('utf8').split(/\r?\n/)[0] ?? '';

export async function sftpSettingsFrom(env: Environment, home: string = homedir()): Promise<SftpSettings> {
  let keyPath = env.HOSSADM_SFTP_KEY_FILE || undefined;
  let keyVariable = 'HOSSADM_SFTP_KEY_FILE';
  if (!keyPath) {
    keyPath = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => join(home, '.ssh', n)).find((p) => existsSync(p));
    keyVariable = 'the default key';
  }
  const privateKey = keyPath ? await secretFile(keyVariable, keyPath) : undefined;
  const passphraseFile = env.HOSSADM_SFTP_KEY_PASSPHRASE_FILE;
  const passphrase = passphraseFile ? firstLine(await secretFile('HOSSADM_SFTP_KEY_PASSPHRASE_FILE', passphraseFile)) : undefined;
  const passwordFile = env.HOSSADM_SFTP_PASSWORD_FILE;
  const password = passwordFile ? firstLine(await secretFile('HOSSADM_SFTP_PASSWORD_FILE', passwordFile)) : env.HOSSADM_SFTP_PASSWORD || undefined;
  if (!privateKey && password === undefined) {
    throw new ConfigError('no SFTP credentials: neither a key nor a password', {
      hint: 'set HOSSADM_SFTP_KEY_FILE to a private key (mode 600), or HOSSADM_SFTP_PASSWORD_FILE to a mode-600 file holding the password',
    });
  }
  const knownHostsPath = env.HOSSADM_SFTP_KNOWN_HOSTS || join(home, '.ssh', 'known_hosts');
  const knownHosts = await readFile(knownHostsPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new ConfigError(`cannot read the SFTP known_hosts file ${knownHostsPath}: ${error.code ?? error.message}`, {
      hint: "the server's host key must be known: ssh-keyscan -p PORT HOST >>FILE, check the fingerprint with the server's own, and set HOSSADM_SFTP_KNOWN_HOSTS=FILE",
      cause: error,
    });
  });
  return { privateKey, passphrase, password, knownHostsPath, knownHosts };
}
