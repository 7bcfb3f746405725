// The sftp:// kind of target: settings from the environment
// (sftp-settings.ts), the connection through ssh2 (ssh2-session.ts).
import type { TargetKind } from './registry.ts';
import { openSsh2Session } from './ssh2-session.ts';
import { sftpSettingsFrom } from './sftp-settings.ts';
import { SftpTarget } from './sftp-target.ts';
import { parseSftpUrl } from './sftp-url.ts';

export const sftpKind: TargetKind = {
  scheme: 'sftp',
  example: 'sftp://user@host[:port]/folder',
  async open(url, env, warn) {
    const location = parseSftpUrl(url);
    const settings = await sftpSettingsFrom(env);
    return new SftpTarget(location, () => openSsh2Session(location, settings), { warn });
  },
};
