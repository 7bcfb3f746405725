// sftp://user@host[:port]/path as an operator writes it. The path is
// absolute on the server; /~/path is relative to the user's home (and
// sftp://user@host alone is the home itself). Credentials never go in the
// URL: a password there would sit in argv, shell history and logs.
import { UsageError } from '../errors.ts';

export interface SftpLocation {
  user: string;
  host: string;
  port: number;
  /** The folder on the server: absolute, or relative to the home (no leading /). */
  folder: string;
  /** The URL without anything secret, for messages and listings. */
  url: string;
}

const HINT = 'write sftp://user@host[:port]/absolute/folder or sftp://user@host/~/folder-in-home';

export function parseSftpUrl(text: string): SftpLocation {
  // URL parsing would resolve . and .. away; a folder written with them is refused instead.
  const rawPath = text.replace(/^[a-z]+:\/\/[^/]*/i, '');
  if (rawPath.split('/').some((s) => /^(\.|%2e){1,2}$/i.test(s))) throw new UsageError(`sftp target "${text}" has . or .. in its path`, { hint: HINT });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not an sftp:// URL`, { hint: HINT });
  }
  if (url.protocol !== 'sftp:') throw new UsageError(`"${text}" is not an sftp:// URL`, { hint: HINT });
  if (url.password) {
    throw new UsageError('an sftp:// target must not hold a password', {
      hint: 'remove it from the URL; put it in a mode-600 file named by HOSSADM_SFTP_PASSWORD_FILE, or use a key (HOSSADM_SFTP_KEY_FILE)',
    });
  }
  if (url.search || url.hash) throw new UsageError(`sftp target "${text}" has a query or fragment, which SFTP has no use for`, { hint: HINT });
  const user = decodeURIComponent(url.username);
  if (!user) throw new UsageError(`sftp target "${text}" names no user`, { hint: HINT });
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new UsageError(`sftp target "${text}" names no host`, { hint: HINT });
  const port = url.port ? Number(url.port) : 22;
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => decodeURIComponent(s));
  const inHome = segments[0] === '~';
  const rest = inHome ? segments.slice(1) : segments;
  const folder = inHome || segments.length === 0 ? rest.join('/') || '.' : `/${rest.join('/')}`;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const shownPath = segments.length === 0 ? '' : `/${segments.map(encodeURIComponent).join('/').replace(/^%7E/, '~')}`;
  return { user, host, port, folder, url: `sftp://${encodeURIComponent(user)}@${shownHost}${port === 22 ? '' : `:${port}`}${shownPath}` };
}

/** The server-side path of an archive in a folder. */
export function remotePath(folder: string, name: string): string {
  return folder === '.' ? name : `${folder.replace(/\/$/, '')}/${name}`;
}
