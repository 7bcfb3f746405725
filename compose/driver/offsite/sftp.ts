// The offsite stack's SFTP server: hoss-local/openssh:local (Debian's
// sshd, SFTP only) on 127.0.0.1, one user whose key pair the first up
// makes in <dir>/sftp, and a known_hosts file written from the host key
// the server made at its first start, so hossadm checks it as it would
// any server's.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { StackError } from '../../../src/errors.ts';
import { say } from '../runtime.ts';
import { freePort, type OffsiteContext, offsiteComposeProject } from './context.ts';
import type { OffsitePart } from './part.ts';

const sftpDir = (ctx: OffsiteContext) => join(ctx.dir, 'sftp');
const keyFile = (ctx: OffsiteContext) => join(sftpDir(ctx), 'id_ed25519');
const knownHostsFile = (ctx: OffsiteContext) => join(sftpDir(ctx), 'known_hosts');

/** The client's key pair, made once; the public half is what the server authorizes. */
async function makeKeyPair(ctx: OffsiteContext): Promise<void> {
  if (existsSync(keyFile(ctx))) return;
  await mkdir(sftpDir(ctx), { recursive: true, mode: 0o700 });
  const pair = ssh2.utils.generateKeyPairSync('ed25519', { comment: 'hossadm offsite test' });
  await writeFile(keyFile(ctx), pair.private, { mode: 0o600 });
  await writeFile(`${keyFile(ctx)}.pub`, `${pair.public}\n`, { mode: 0o644 });
  say(`made an SSH key pair in ${sftpDir(ctx)}`);
}

/** True once something on the port speaks SSH. */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, timeout: 2000 });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString('latin1').startsWith('SSH-2.0-'));
    });
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const sftpPart: OffsitePart = {
  services: ['sftp'],
  required: ['SFTP_PORT', 'SFTP_USER'],
  env: async () => [
    ['SFTP_PORT', String(await freePort())],
    ['SFTP_USER', 'hoss'],
  ],
  async prepare(ctx) {
    await makeKeyPair(ctx);
    for (const folder of ['home', 'host-keys']) await mkdir(join(sftpDir(ctx), folder), { recursive: true });
  },
  async ready(ctx, timeoutSeconds) {
    const port = Number(ctx.env.SFTP_PORT);
    const started = Date.now();
    while (!(await banner(port))) {
      if ((Date.now() - started) / 1000 > timeoutSeconds) {
        throw new StackError(`the SFTP server did not answer on 127.0.0.1:${port} within ${timeoutSeconds} s`, { hint: `see docker logs of the ${ctx.project} sftp container` });
      }
      await sleep(300);
    }
    // The server answers only once its host keys exist, so this reads the final one.
    const hostKey = (await runCompose(offsiteComposeProject(ctx), ['exec', '-T', 'sftp', 'cat', '/etc/ssh/host-keys/ssh_host_ed25519_key.pub'], { echo: () => undefined })).trim();
    const line = `[127.0.0.1]:${port} ${hostKey.split(/\s+/).slice(0, 2).join(' ')}\n`;
    if ((await readFile(knownHostsFile(ctx), 'utf8').catch(() => '')) !== line) await writeFile(knownHostsFile(ctx), line, { mode: 0o644 });
  },
  settings: (ctx) => [
    ['HOSSADM_SFTP_KEY_FILE', keyFile(ctx)],
    ['HOSSADM_SFTP_KNOWN_HOSTS', knownHostsFile(ctx)],
    ['HOSSADM_TEST_SFTP_TARGET', `sftp://${ctx.env.SFTP_USER}@127.0.0.1:${ctx.env.SFTP_PORT}/~/backups`],
    ['HOSSADM_TEST_SFTP_PUBLIC_KEY_FILE', `${keyFile(ctx)}.pub`],
  ],
};
