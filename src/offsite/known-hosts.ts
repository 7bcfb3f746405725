// OpenSSH's known_hosts format, for checking an SFTP server's host key:
// plain, wildcard (* ?), negated (!) and hashed (|1|salt|hmac) host
// patterns, [host]:port for ports other than 22, and the @revoked marker.
// @cert-authority lines are skipped: host certificates are not supported.
import { createHmac } from 'node:crypto';

export interface KnownKey {
  type: string;
  key: Buffer;
  revoked: boolean;
}

/** The name known_hosts files a server under: host for port 22, [host]:port otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function wildcard(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(field: string, name: string): boolean {
  const [, magic, salt, hmac] = field.split('|');
  if (magic !== '1' || !salt || !hmac) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hmac;
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcard(pattern.slice(1)).test(name)) return false;
    } else if (wildcard(pattern).test(name)) {
      matched = true;
    }
  }
  return matched;
}

/** The keys a known_hosts text holds for the server, revoked ones marked. */
export function knownKeys(text: string, host: string, port: number): KnownKey[] {
  const name = knownHostsName(host, port);
  const keys: KnownKey[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith('@')) {
      const marker = fields.shift();
      if (marker !== '@revoked') continue;
      revoked = true;
    }
    const [hosts, type, data] = fields;
    if (!hosts || !type || !data || !hostMatches(hosts, name)) continue;
    keys.push({ type, key: Buffer.from(data, 'base64'), revoked });
  }
  return keys;
}

/** Host key algorithms to offer for the key types known, in the order ssh prefers them. */
export function hostKeyAlgorithms(keys: readonly KnownKey[]): string[] {
  const algorithms: string[] = [];
  for (const { type, revoked } of keys) {
    if (revoked) continue;
    const forType = type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
    for (const a of forType) if (!algorithms.includes(a)) algorithms.push(a);
  }
  return algorithms;
}
