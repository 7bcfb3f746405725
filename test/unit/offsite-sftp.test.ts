// The SFTP target without a server: sftp:// URLs, known_hosts matching,
// the settings read from the environment, and put/get/list/remove on an
// in-memory server — an upload is under its final name only once its
// read-back matched, a dropped connection is resumed, and every failure
// leaves neither a final nor a partial file.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { ConfigError, OperationError, UsageError } from '../../src/errors.ts';
import { hostKeyAlgorithms, knownKeys } from '../../src/offsite/known-hosts.ts';
import { sftpSettingsFrom } from '../../src/offsite/sftp-settings.ts';
import { SftpTarget } from '../../src/offsite/sftp-target.ts';
import { parseSftpUrl } from '../../src/offsite/sftp-url.ts';
import { FakeSftpServer } from '../support/fake-sftp.ts';

const NAME = 'hoss-backup-20261201T020000Z.tar.zst';
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function target(server: FakeSftpServer, url = 'sftp://hoss@backup.example/srv/archives') {
  const warnings: string[] = [];
  const t = new SftpTarget(parseSftpUrl(url), server.connect, {
    warn: (m) => warnings.push(m),
    retry: { attempts: 3, baseDelayMs: 1, sleep: async () => undefined },
    blockBytes: 1000,
    window: 3,
  });
  return { t, warnings };
}

/** A source that gives `data` in uneven chunks, so blocks straddle them. */
function source(data: Buffer, failAfter?: number): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < data.length; at += 777) {
        if (failAfter !== undefined && at >= failAfter) throw new Error('the local disk went away');
        yield data.subarray(at, at + 777);
      }
    })(),
  );
}

const put = (t: SftpTarget, data: Buffer, over: { sha256?: string; failAfter?: number } = {}) =>
  t.put(NAME, source(data, over.failAfter), { bytes: data.length, sha256: over.sha256 ?? sha256(data) });

test('sftp:// URLs: absolute folders, folders in the home, ports, IPv6; no password, no .. and a user required', () => {
  assert.deepEqual(parseSftpUrl('sftp://hoss@backup.example/srv/archives'), { user: 'hoss', host: 'backup.example', port: 22, folder: '/srv/archives', url: 'sftp://hoss@backup.example/srv/archives' });
  assert.deepEqual(parseSftpUrl('sftp://hoss@backup.example:2222/~/archives/'), { user: 'hoss', host: 'backup.example', port: 2222, folder: 'archives', url: 'sftp://hoss@backup.example:2222/~/archives' });
  assert.equal(parseSftpUrl('sftp://hoss@h').folder, '.');
  assert.equal(parseSftpUrl('sftp://hoss@h/~').folder, '.');
  assert.deepEqual(parseSftpUrl('sftp://hoss@[::1]:22/a%20b'), { user: 'hoss', host: '::1', port: 22, folder: '/a b', url: 'sftp://hoss@[::1]/a%20b' });
  assert.throws(() => parseSftpUrl('sftp://hoss:secret@h/x'), (e: unknown) => e instanceof UsageError && !e.message.includes('secret'));
  assert.throws(() => parseSftpUrl('sftp://h/x'), UsageError);
  assert.throws(() => parseSftpUrl('sftp://hoss@h/x/../y'), UsageError);
  assert.throws(() => parseSftpUrl('sftp://hoss@h/x/%2E/y'), UsageError);
  assert.throws(() => parseSftpUrl('s3://bucket/x'), UsageError);
  assert.throws(() => parseSftpUrl('sftp://hoss@h/x?key=1'), UsageError);
});

test('known_hosts: plain, [host]:port, wildcard, negated and hashed names; revoked keys marked; host key algorithms follow the known types', () => {
  const a = randomBytes(51).toString('base64');
  const b = randomBytes(51).toString('base64');
  const salt = randomBytes(20);
  const hashed = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[10.0.0.5]:2222').digest('base64')}`;
  const text = [
    '# comment',
    `backup.example,10.0.0.4 ssh-ed25519 ${a} root@backup`,
    `[backup.example]:2222 ssh-rsa ${b}`,
    `*.example,!evil.example ecdsa-sha2-nistp256 ${b}`,
    `${hashed} ssh-ed25519 ${b}`,
    `@revoked backup.example ssh-rsa ${b}`,
    `@cert-authority *.example ssh-ed25519 ${a}`,
  ].join('\n');
  const types = (host: string, port: number) => knownKeys(text, host, port).map((k) => `${k.revoked ? '!' : ''}${k.type}`);
  assert.deepEqual(types('backup.example', 22), ['ssh-ed25519', 'ecdsa-sha2-nistp256', '!ssh-rsa']);
  assert.deepEqual(types('BACKUP.example', 22), ['ssh-ed25519', 'ecdsa-sha2-nistp256', '!ssh-rsa']);
  assert.deepEqual(types('backup.example', 2222), ['ssh-rsa']);
  assert.deepEqual(types('evil.example', 22), []);
  assert.deepEqual(types('10.0.0.5', 2222), ['ssh-ed25519']);
  assert.deepEqual(types('10.0.0.5', 22), []);
  assert.ok(knownKeys(text, '10.0.0.4', 22)[0]!.key.equals(Buffer.from(a, 'base64')));
  assert.deepEqual(hostKeyAlgorithms(knownKeys(text, 'backup.example', 2222)), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  assert.deepEqual(hostKeyAlgorithms(knownKeys(text, 'backup.example', 22)), ['ssh-ed25519', 'ecdsa-sha2-nistp256']);
});

const scratch = await mkdtemp(join(tmpdir(), 'hossadm-sftp-unit-'));
after(() => rm(scratch, { recursive: true, force: true }));

test('settings: a key file, a password file, known_hosts; files readable by others and no credentials at all refused', async () => {
  const key = join(scratch, 'id');
  const password = join(scratch, 'pw');
  const known = join(scratch, 'known_hosts');
  await writeFile(key, 'KEY', { mode: 0o600 });
  await writeFile(password, 'pass word\n', { mode: 0o600 });
  await writeFile(known, 'h ssh-ed25519 AAAA\n');
  const home = join(scratch, 'home');
  const fromKey = await sftpSettingsFrom({ HOSSADM_SFTP_KEY_FILE: key, HOSSADM_SFTP_KNOWN_HOSTS: known }, home);
  assert.equal(fromKey.privateKey?.toString(), 'KEY');
  assert.equal(fromKey.password, undefined);
  const fromPassword = await sftpSettingsFrom({ HOSSADM_SFTP_PASSWORD_FILE: password, HOSSADM_SFTP_KNOWN_HOSTS: known }, home);
  assert.equal(fromPassword.password, 'pass word');
  assert.equal(fromPassword.privateKey, undefined);
  await assert.rejects(sftpSettingsFrom({ HOSSADM_SFTP_KNOWN_HOSTS: known }, home), (e: unknown) => e instanceof ConfigError && /no SFTP credentials/.test(e.message));
  await assert.rejects(sftpSettingsFrom({ HOSSADM_SFTP_KEY_FILE: key }, home), (e: unknown) => e instanceof ConfigError && e.message.includes(join(home, '.ssh', 'known_hosts')));
  await chmod(key, 0o644);
  await assert.rejects(sftpSettingsFrom({ HOSSADM_SFTP_KEY_FILE: key, HOSSADM_SFTP_KNOWN_HOSTS: known }, home), (e: unknown) => e instanceof ConfigError && /readable by others \(mode 644\)/.test(e.message));
});

test('put stores the archive under its final name after the read-back; list shows only final names; get and remove', async () => {
  const server = new FakeSftpServer();
  const { t } = target(server);
  server.folders.add('/srv');
  server.folders.add('/srv/archives');
  server.files.set('/srv/archives/old-20261101T000000Z.tar.zst.partial', Buffer.from('left by a crash'));
  const data = randomBytes(10_500);
  await put(t, data);
  assert.ok(server.files.get(`/srv/archives/${NAME}`)!.equals(data));
  assert.equal(server.files.has(`/srv/archives/${NAME}.partial`), false);
  assert.deepEqual(await t.list(), [{ name: NAME, bytes: data.length }]);
  const back: Buffer[] = [];
  for await (const chunk of await t.get(NAME)) back.push(chunk as Buffer);
  assert.ok(Buffer.concat(back).equals(data));
  await t.remove(NAME);
  assert.deepEqual(await t.list(), []);
  await assert.rejects(t.get(NAME), (e: unknown) => e instanceof UsageError && e.message.includes('no such archive'));
  await t.close();
});

test('put makes a missing folder, replaces an archive of the same name, and a missing folder lists as empty', async () => {
  const server = new FakeSftpServer();
  const { t } = target(server, 'sftp://hoss@h/~/a/b');
  assert.deepEqual(await t.list(), []);
  await put(t, Buffer.from('first'));
  const data = randomBytes(3000);
  await put(t, data);
  assert.deepEqual(server.names('a/b'), [NAME]);
  assert.ok(server.files.get(`a/b/${NAME}`)!.equals(data));
});

test('a connection dropped in the middle of an upload is resumed where it stopped, with a warning per retry', async () => {
  const server = new FakeSftpServer();
  const { t, warnings } = target(server);
  server.dropAtWrites = new Set([4, 9]);
  const data = randomBytes(20_000);
  await put(t, data);
  assert.ok(server.files.get(`/srv/archives/${NAME}`)!.equals(data));
  assert.ok(server.connects >= 3, `reconnected (${server.connects} connections)`);
  assert.ok(warnings.some((w) => /could not upload \(No response from server\); try 2 of 3/.test(w)), warnings.join('\n'));
  assert.deepEqual(server.names('/srv/archives'), [NAME]);
});

test('failures leave neither a final nor a partial file: an interrupted source, a wrong sha256, a damaged read-back, a server that stays away', async () => {
  const data = randomBytes(8000);
  const empty = async (server: FakeSftpServer) => assert.deepEqual(server.names('/srv/archives'), []);

  let server = new FakeSftpServer();
  await assert.rejects(put(target(server).t, data, { failAfter: 5000 }), /the local disk went away/);
  await empty(server);

  server = new FakeSftpServer();
  await assert.rejects(put(target(server).t, data, { sha256: sha256(Buffer.from('other')) }), (e: unknown) => e instanceof OperationError && /while being sent/.test(e.message));
  await empty(server);

  server = new FakeSftpServer();
  server.corrupt = true;
  await assert.rejects(put(target(server).t, data), (e: unknown) => e instanceof OperationError && /read back .* nothing was stored under/.test(e.message));
  await empty(server);

  server = new FakeSftpServer();
  const { t } = target(server);
  await t.list();
  server.dropAtWrites = new Set(Array.from({ length: 100 }, (_, i) => i + 3));
  const drops = put(t, data);
  await assert.rejects(drops, (e: unknown) => e instanceof OperationError && /could not upload after 3 tries/.test(e.message));
  await empty(server);

  server = new FakeSftpServer();
  server.down = true;
  await assert.rejects(target(server).t.list(), (e: unknown) => e instanceof OperationError && /after 3 tries/.test(e.message));
  assert.equal(server.connects, 3);
});

test('a refused login is a one-line configuration error, not retried; names that are not archive file names are refused', async () => {
  const server = new FakeSftpServer();
  server.refuseLogin = true;
  const { t } = target(server);
  await assert.rejects(t.list(), (e: unknown) => e instanceof ConfigError && /refused the login of hoss/.test(e.message) && !e.message.includes('\n'));
  assert.equal(server.connects, 1);
  for (const name of ['../x', 'a/b', '', `${NAME}.partial`]) {
    await assert.rejects(t.get(name), UsageError);
  }
});

test('a closed target does not connect again (a read behind a dropped stream cannot open a new connection)', async () => {
  const server = new FakeSftpServer();
  const { t } = target(server);
  await t.list();
  await t.close();
  await assert.rejects(t.list());
  assert.equal(server.connects, 1);
});
