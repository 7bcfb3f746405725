// The SFTP target against the offsite stack's real sshd (Debian's OpenSSH,
// SFTP only): an archive put, listed, read back and removed with its
// sha256 intact; the server killed in the middle of an upload and back
// within the retry window (the upload carries on where it stopped); the
// server gone for good, a failing source and an aborted copy (nothing under
// the final name, and the next copy succeeds); a wrong key and an unknown
// or changed host key refused in one line before any byte moves.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import ssh2 from 'ssh2';
import { EngineClient } from '../../src/docker/client.ts';
import { findServiceContainer } from '../../src/docker/compose-services.ts';
import { ConfigError, ExitCode, OperationError } from '../../src/errors.ts';
import '../../src/offsite/kinds.ts';
import { openTarget } from '../../src/offsite/registry.ts';
import type { Target } from '../../src/offsite/target.ts';
import { runStack, stackOk } from '../integration/stack-support.ts';

const root = await mkdtemp(join(tmpdir(), 'hossadm-offsite-sftp-'));
const offsiteDir = join(root, 'offsite');
const project = `toffsitesftp${process.pid}`;
const docker = new EngineClient();
const NAME = 'cybersift-backup-20261201T020000Z.tar.zst';
const MIB = 1024 * 1024;
let servers: Record<string, string>;
/** The target folder as the server's disk holds it. */
let serverFolder: string;
let archive: string;
let archiveSha: string;
let archiveBytes: number;

const sftp = (over: Record<string, string> = {}) => ({ HOSSADM_SFTP_KEY_FILE: servers.HOSSADM_SFTP_KEY_FILE!, HOSSADM_SFTP_KNOWN_HOSTS: servers.HOSSADM_SFTP_KNOWN_HOSTS!, ...over });
const open = (over: Record<string, string> = {}, warn: (m: string) => void = () => undefined) => openTarget(servers.HOSSADM_TEST_SFTP_TARGET!, sftp(over), warn);
const sha256 = async (stream: AsyncIterable<Buffer>) => {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest('hex');
};
const onServer = async () => (await readdir(serverFolder).catch(() => [] as string[])).sort();
const put = (target: Target, source: Readable, extra: { signal?: AbortSignal; onProgress?: (n: number) => void } = {}) =>
  target.put(NAME, source, { bytes: archiveBytes, sha256: archiveSha, ...extra });

/** A one-line refusal of the kind an operator sees: the class (so its exit code) and the words. */
function oneLine(error: unknown, kind: typeof ConfigError | typeof OperationError, pattern: RegExp): boolean {
  assert.ok(error instanceof kind, String(error));
  assert.doesNotMatch(error.message, /\n/);
  assert.match(error.message, pattern);
  return true;
}

before(async () => {
  const out = await stackOk(['--stack', 'offsite', 'up', '--dir', offsiteDir], { COMPOSE_PROJECT_NAME: project });
  servers = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.match(servers.HOSSADM_TEST_SFTP_TARGET!, /^sftp:\/\/hoss@127\.0\.0\.1:\d+\/~\/backups$/);
  serverFolder = join(offsiteDir, 'sftp', 'home', 'hoss', 'backups');
  archive = join(root, NAME);
  const file = createWriteStream(archive);
  for (let i = 0; i < 40; i++) file.write(randomBytes(MIB));
  await new Promise((resolve) => file.end(resolve));
  archiveBytes = 40 * MIB;
  archiveSha = await sha256(createReadStream(archive));
});

after(async () => {
  await runStack(['--stack', 'offsite', 'down', '--dir', offsiteDir], { COMPOSE_PROJECT_NAME: project });
  await rm(root, { recursive: true, force: true });
});

test('an archive put over SFTP is on the server under its name with its sha256; list, get and remove', async () => {
  const target = await open();
  try {
    const started = Date.now();
    await put(target, createReadStream(archive));
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`put of 40 MiB with its read-back: ${seconds.toFixed(1)} s\n`);
    assert.deepEqual(await onServer(), [NAME]);
    assert.equal(await sha256(createReadStream(join(serverFolder, NAME))), archiveSha);
    assert.deepEqual(await target.list(), [{ name: NAME, bytes: archiveBytes }]);
    assert.equal(await sha256(await target.get(NAME)), archiveSha);
    await target.remove(NAME);
    assert.deepEqual(await onServer(), []);
    assert.deepEqual(await target.list(), []);
  } finally {
    await target.close();
  }
});

test('the server killed in the middle of an upload and started again: the upload carries on and the copy is whole', async () => {
  const sshd = await findServiceContainer(docker, project, 'sftp');
  const warnings: string[] = [];
  const target = await open({}, (m) => warnings.push(m));
  let killed: Promise<void> | undefined;
  try {
    await put(target, createReadStream(archive), {
      onProgress: (sent) => {
        if (sent < 8 * MIB || killed) return;
        killed = docker.stopContainer(sshd.id, 0).then(() => docker.startContainer(sshd.id));
      },
    });
    await killed;
  } finally {
    await target.close();
  }
  assert.ok(killed, 'the server was killed during the upload');
  assert.ok(warnings.some((w) => /could not upload .*; try 2 of/.test(w)), warnings.join('\n'));
  assert.deepEqual(await onServer(), [NAME]);
  assert.equal(await sha256(createReadStream(join(serverFolder, NAME))), archiveSha);
  await rm(join(serverFolder, NAME));
});

test('an interrupted upload leaves nothing under the final name: a failing source, an abort, the server gone for good; the next copy succeeds', async () => {
  let target = await open();
  try {
    const failing = Readable.from(
      (async function* () {
        const stream = createReadStream(archive, { end: 3 * MIB });
        for await (const chunk of stream) yield chunk as Buffer;
        throw new Error('the local disk went away');
      })(),
    );
    await assert.rejects(put(target, failing), /the local disk went away/);
    assert.deepEqual(await onServer(), [], 'neither the final nor the partial file');

    const abort = new AbortController();
    await assert.rejects(put(target, createReadStream(archive), { signal: abort.signal, onProgress: (n) => n > 4 * MIB && abort.abort() }));
    assert.deepEqual(await onServer(), [], 'an aborted copy leaves nothing either');
  } finally {
    await target.close();
  }

  const sshd = await findServiceContainer(docker, project, 'sftp');
  target = await open();
  let stopped: Promise<void> | undefined;
  try {
    await assert.rejects(
      put(target, createReadStream(archive), { onProgress: (n) => (stopped ??= n > 8 * MIB ? docker.stopContainer(sshd.id, 0) : undefined) }),
      (e: unknown) => oneLine(e, OperationError, /could not (upload|finish the upload) after \d+ tries/),
    );
  } finally {
    await target.close();
    await stopped;
    await docker.startContainer(sshd.id);
  }
  assert.ok(!(await onServer()).includes(NAME), 'nothing under the final name');

  target = await open();
  try {
    assert.deepEqual(await target.list(), [], 'an unfinished upload is not listed');
    await put(target, createReadStream(archive));
    assert.deepEqual(await onServer(), [NAME], 'the next copy replaces the unfinished one');
  } finally {
    await target.close();
  }
});

test('a wrong key, an unknown host key and a changed host key are refused in one line with exit code 3, before anything is sent', async () => {
  const before = await onServer();
  const pair = ssh2.utils.generateKeyPairSync('ed25519');
  const otherKey = join(root, 'other_key');
  await writeFile(otherKey, pair.private, { mode: 0o600 });
  const wrongKey = await open({ HOSSADM_SFTP_KEY_FILE: otherKey });
  await assert.rejects(wrongKey.list(), (e: unknown) => oneLine(e, ConfigError, /refused the login of hoss/));
  await wrongKey.close();

  const empty = join(root, 'known_hosts_empty');
  await writeFile(empty, '');
  const unknown = await open({ HOSSADM_SFTP_KNOWN_HOSTS: empty });
  await assert.rejects(unknown.list(), (e: unknown) => oneLine(e, ConfigError, /host key of \[127\.0\.0\.1\]:\d+ \(SHA256:\S+\) is not in /));
  await unknown.close();

  const known = await readFile(servers.HOSSADM_SFTP_KNOWN_HOSTS!, 'utf8');
  const changed = join(root, 'known_hosts_changed');
  await writeFile(changed, known.replace(/ssh-ed25519 \S+/, `ssh-ed25519 ${pair.public.split(' ')[1]}`));
  const impostor = await open({ HOSSADM_SFTP_KNOWN_HOSTS: changed });
  await assert.rejects(impostor.put(NAME, createReadStream(archive), { bytes: archiveBytes, sha256: archiveSha }), (e: unknown) => oneLine(e, ConfigError, /does NOT match/));
  await impostor.close();

  assert.equal(ConfigError.code, ExitCode.config);
  assert.deepEqual(await onServer(), before, 'nothing changed on the server');
});
