// Offsite copies on the real engine: the CyberSift reference stack (the
// lightest) backed up encrypted with age and copied to the offsite stack's
// servers (no plaintext there), then the local archives and the whole
// stack destroyed and restored from a target with the identity and an
// identical fingerprint; list, check and prune on a target; wrong
// keys, a missing bucket and a server stopped mid-upload refused with one
// line and nothing left under the final name. One CyberSift stack and one
// offsite stack serve the whole file; each kind of target has its section.
import assert from 'node:assert/strict';
import { GetObjectRetentionCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import ssh2 from 'ssh2';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { parseS3Url } from '../../src/offsite/s3-target.ts';
import { hossadm, type CliRun } from '../integration/hossadm-support.ts';
import { changedKeys, runStack, stackOk } from '../integration/stack-support.ts';
import { ageKeygen } from '../support/age-cli.ts';

const root = await mkdtemp(join(tmpdir(), 'hossadm-offsite-'));
const dir = join(root, 'cybersift');
const backups = join(dir, 'backup', 'backups');
const offsiteDir = join(root, 'offsite');
const project = `toffsitecs${process.pid}`;
const offsiteProject = `toffsite${process.pid}`;
const stackEnv = { COMPOSE_PROJECT_NAME: project, CYBERSIFT_DIR: dir };
const docker = new EngineClient();
/** What `compose/stack --stack offsite up` printed: endpoints, CA file, keys, targets. */
let servers: Record<string, string>;
let seeded: string;
let archive: string;
/** The age identity file that reads the archives, and the file of recipients backup encrypts to. */
let identity: string;
let recipients: string;

const stack = (verb: string) => stackOk(['--stack', 'cybersift', verb, '--dir', dir], stackEnv);
const fingerprint = () => stack('fingerprint');

/** Only the settings a real host would have: none of the test's own S3 or target variables leak in. */
function toolEnv(extra: Record<string, string>): Record<string, string> {
  return { ...stackEnv, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', HOSSADM_S3_ENDPOINT: '', HOSSADM_S3_CA_FILE: '', HOSSADM_COPY_TO: '', ...extra };
}
const tool = (args: string[], extra: Record<string, string>) => hossadm(['--profile', 'cybersift', '--config-dir', dir, ...args], toolEnv(extra));

function ok(run: CliRun, what: string): CliRun {
  assert.equal(run.code, 0, `${what} exited ${run.code}: ${run.stderr.slice(-2000)}`);
  return run;
}

/** A refusal: its exit code and exactly one error line, naming what `pattern` says. */
function refused(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `expected exit ${code}, got ${run.code}: ${run.stderr.slice(-1500)}`);
  const lines = run.stderr.trim().split('\n').filter((l) => l.startsWith('hossadm:'));
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

function parseSettings(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** An uploaded archive as the target's holder sees it: an age file, no plaintext name, no zstd frame. */
function assertSealed(uploaded: Buffer): void {
  assert.equal(uploaded.subarray(0, 22).toString(), 'age-encryption.org/v1\n');
  for (const plaintext of ['manifest.json', 'stack.env', 'dump.rdb', 'repository.tar', 'cybersift', 'redis', 'elasticsearch', 'models', 'flows', project]) {
    assert.equal(uploaded.includes(plaintext), false, `${plaintext} is readable in the uploaded archive`);
  }
  assert.equal(uploaded.includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), false, 'no zstd frame is visible');
}

/**
 * The whole stack and the local archives destroyed, then `restore
 * <target>/<name>` with the identity on the bare host: a fresh-host restore
 * with the seeded fingerprint, the archive kept in BACKUP_ROOT/backups.
 */
async function destroyAndRestoreFrom(target: string, name: string, credentials: Record<string, string>, what: string): Promise<void> {
  await stack('reset');
  await rm(backups, { recursive: true, force: true });
  assert.deepEqual(await projectContainers(docker, project), [], 'nothing of the stack is left');
  const run = ok(await tool(['restore', '--yes', `${target}/${name}`], { ...credentials, BACKUP_ROOT: join(dir, 'backup'), HOSSADM_AGE_IDENTITY: identity }), what);
  assert.match(run.stdout, /\(fresh host\)/);
  assert.match(run.stdout, /content matches the manifest/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.deepEqual(await readdir(backups), [name], 'the downloaded archive is kept in BACKUP_ROOT/backups, nothing partial');
}

before(async () => {
  servers = parseSettings(await stackOk(['--stack', 'offsite', 'up', '--dir', offsiteDir], { COMPOSE_PROJECT_NAME: offsiteProject }));
  await stack('up');
  await stack('seed');
  seeded = await fingerprint();
  const keyDir = join(root, 'age');
  await mkdir(keyDir);
  const key = await ageKeygen(keyDir, 'backup');
  identity = key.identityFile;
  recipients = join(keyDir, 'recipients.txt');
  await writeFile(recipients, `${key.recipient}\n`);
});

after(async () => {
  await runStack(['--stack', 'cybersift', 'reset', '--dir', dir], stackEnv);
  await runStack(['--stack', 'offsite', 'down', '--dir', offsiteDir], { COMPOSE_PROJECT_NAME: offsiteProject });
  await rm(root, { recursive: true, force: true });
});

// ---- S3 (versitygw over HTTPS with the stack's own CA, and over HTTP) ----

/** Full keys (list, read, delete) over HTTPS. */
const s3 = () => ({
  HOSSADM_S3_ENDPOINT: servers.HOSSADM_S3_ENDPOINT!,
  HOSSADM_S3_CA_FILE: servers.HOSSADM_S3_CA_FILE!,
  HOSSADM_S3_REGION: servers.HOSSADM_S3_REGION!,
  AWS_ACCESS_KEY_ID: servers.AWS_ACCESS_KEY_ID!,
  AWS_SECRET_ACCESS_KEY: servers.AWS_SECRET_ACCESS_KEY!,
});
/** Keys whose bucket policy allows put only. */
const s3Writer = () => ({ ...s3(), AWS_ACCESS_KEY_ID: servers.HOSSADM_TEST_S3_WRITER_ACCESS_KEY_ID!, AWS_SECRET_ACCESS_KEY: servers.HOSSADM_TEST_S3_WRITER_SECRET_ACCESS_KEY! });
const s3Http = () => ({ ...s3(), HOSSADM_S3_ENDPOINT: servers.HOSSADM_TEST_S3_HTTP_ENDPOINT!, HOSSADM_S3_CA_FILE: '' });

async function s3Names(): Promise<string[]> {
  const run = ok(await tool(['--json', 'list', '--from', servers.HOSSADM_TEST_S3_TARGET!], s3()), 'list --from');
  return (JSON.parse(run.stdout) as Array<{ name: string }>).map((r) => r.name);
}

test('S3 over HTTPS: an encrypted backup --copy-to with write-only keys, no plaintext on the server; list and check read the target; prune needs other keys', async () => {
  const target = servers.HOSSADM_TEST_S3_TARGET!;
  const run = ok(await tool(['--json', 'backup', '--yes', '--recipients', recipients, '--copy-to', target], s3Writer()), 'backup --copy-to');
  const result = JSON.parse(run.stdout) as { archive: string; bytes: number; copies: Array<{ target: string; name: string; bytes: number }> };
  archive = result.archive;
  assert.match(archive, /\.tar\.zst\.age$/);
  assert.deepEqual(result.copies.map((c) => [c.target, c.name, c.bytes]), [[target, archive.split('/').pop(), result.bytes]]);
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(servers.HOSSADM_TEST_S3_WRITER_SECRET_ACCESS_KEY!), 'no key in the output');

  // What the bucket's holder sees: the object as the server stores it.
  const uploaded = await readFile(join(offsiteDir, 's3', 'buckets', 'archives', 'backups', archive.split('/').pop()!));
  assert.equal(uploaded.length, result.bytes);
  assertSealed(uploaded);

  assert.deepEqual(await s3Names(), [archive.split('/').pop()]);
  const check = await tool(['check', '--from', target, '--max-age', '1h'], s3());
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, new RegExp(`^HOSSADM OK - last backup ${archive.split('/').pop()!.replace(/\./g, '\\.')}`));
  // Stale once it is older than a second: the backup and its copy may take less than that.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const stale = await tool(['check', '--from', target, '--max-age', '1s'], s3());
  assert.equal(stale.code, 2, stale.stdout);

  refused(await tool(['prune', '--yes', '--keep-last', '1', '--from', target], s3Writer()), 3, /cannot list the archives: access denied/);
  assert.match((await tool(['prune', '--yes', '--keep-last', '1', '--from', target], s3Writer())).stderr, /need other keys than write-only backup keys/);
});

test('S3 over HTTP: the local archives and the whole stack destroyed, restore <target>/<name> with the identity gives the same fingerprint', async () => {
  const target = servers.HOSSADM_TEST_S3_TARGET!;
  const name = archive.split('/').pop()!;
  // The same archive sent again over plain HTTP replaces the copy under its name.
  ok(await tool(['copy', archive, target], s3Http()), 'copy over HTTP');
  await destroyAndRestoreFrom(target, name, s3Http(), 'restore from S3');

  const verified = ok(await tool(['verify', '--identity', identity, `${target}/latest`], s3()), 'verify from S3');
  assert.match(verified.stdout, /is intact/);
});

test('S3: wrong keys, a missing bucket and an untrusted certificate are refused in one line; nothing changes', async () => {
  const before = await s3Names();
  refused(await tool(['copy', archive, servers.HOSSADM_TEST_S3_TARGET!], { ...s3(), AWS_SECRET_ACCESS_KEY: 'not-the-secret-key' }), 3, /secret key does not match/);
  refused(await tool(['copy', archive, 's3://no-such-bucket/backups'], s3()), 3, /the bucket does not exist/);
  refused(await tool(['copy', archive, servers.HOSSADM_TEST_S3_TARGET!], { ...s3(), HOSSADM_S3_CA_FILE: '' }), 3, /certificate is not trusted/);
  refused(await tool(['copy', archive, servers.HOSSADM_TEST_S3_TARGET!], { ...s3(), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }), 3, /no S3 credentials/);
  assert.deepEqual(await s3Names(), before);

  // A backup whose copy fails keeps its archive and exits 8 (and, in a cron line, prunes nothing).
  const local = await readdir(backups);
  const failed = await tool(['backup', '--yes', '--copy-to', 's3://no-such-bucket/backups'], s3());
  refused(failed, 8, /was written but its copy failed/);
  const now = await readdir(backups);
  assert.equal(now.length, local.length + 1, 'the new archive is kept');
  for (const extra of now.filter((n) => !local.includes(n))) await rm(join(backups, extra));
});

/** The first part file of a multipart upload appearing in the server's posix root. */
async function firstPartStored(bucketDir: string, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    const files = await readdir(join(bucketDir, '.sgwtmp', 'multipart'), { recursive: true, withFileTypes: true }).catch(() => []);
    if (files.some((f) => f.isFile())) return;
    if (Date.now() - started > timeoutMs) throw new Error('no multipart part appeared on the server');
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('S3 stopped in the middle of an upload: exit 8, no object under the final name, the file kept, the next run succeeds', async () => {
  // Large enough that the upload is still running when the server stops.
  const scratch = join(root, 'big');
  await mkdir(scratch);
  const big = join(scratch, 'cybersift-backup-20200101T000000Z.tar.zst');
  const out = createWriteStream(big);
  for (let i = 0; i < 64; i++) out.write(randomBytes(8 * 1024 * 1024));
  await new Promise((r) => out.end(r));
  const s3Container = (await projectContainers(docker, offsiteProject)).find((c) => c.service === 's3')!;
  const copying = tool(['copy', big, servers.HOSSADM_TEST_S3_TARGET!], s3Http());
  await firstPartStored(join(offsiteDir, 's3', 'buckets', 'archives'), 60_000);
  // No grace period: a graceful stop would let the requests under way finish.
  await docker.stopContainer(s3Container.id, 0);
  try {
    refused(await copying, 8, /cannot send .*cybersift-backup-20200101T000000Z/);
  } finally {
    await docker.startContainer(s3Container.id);
  }
  assert.equal((await stat(big)).size, 64 * 8 * 1024 * 1024, 'the local file is kept');
  await waitForHealth(servers.HOSSADM_TEST_S3_HTTP_ENDPOINT!);
  assert.ok(!(await s3Names()).includes('cybersift-backup-20200101T000000Z.tar.zst'), 'nothing under the final name');

  ok(await tool(['copy', big, servers.HOSSADM_TEST_S3_TARGET!], s3Http()), 'the next copy');
  assert.ok((await s3Names()).includes('cybersift-backup-20200101T000000Z.tar.zst'));
  await rm(scratch, { recursive: true });
});

async function waitForHealth(endpoint: string): Promise<void> {
  // Up to a minute: a loaded machine starts a container slowly.
  for (let i = 0; i < 600; i++) {
    const up = await fetch(`${endpoint}/health`).then((r) => r.ok, () => false);
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${endpoint} did not come back`);
}

test('S3: prune on the target keeps by the same rules as locally; --lock-days sets retention where the bucket has object lock', async () => {
  const target = servers.HOSSADM_TEST_S3_TARGET!;
  const names = await s3Names();
  assert.equal(names.length, 2, names.join(', '));
  const dry = ok(await tool(['--json', 'prune', '--keep-last', '1', '--dry-run', '--from', target], s3()), 'prune --dry-run');
  assert.deepEqual((JSON.parse(dry.stdout) as { removed: Array<{ name: string }> }).removed.map((a) => a.name), ['cybersift-backup-20200101T000000Z.tar.zst']);
  ok(await tool(['prune', '--yes', '--keep-last', '1', '--from', target], s3()), 'prune');
  assert.deepEqual(await s3Names(), [archive.split('/').pop()]);

  const locked = servers.HOSSADM_TEST_S3_LOCK_TARGET!;
  ok(await tool(['copy', '--lock-days', '1', archive, locked], s3()), 'copy --lock-days');
  const client = new S3Client({
    endpoint: servers.HOSSADM_TEST_S3_HTTP_ENDPOINT!,
    region: servers.HOSSADM_S3_REGION!,
    forcePathStyle: true,
    credentials: { accessKeyId: servers.AWS_ACCESS_KEY_ID!, secretAccessKey: servers.AWS_SECRET_ACCESS_KEY! },
  });
  try {
    const { bucket, prefix } = parseS3Url(locked);
    const retention = await client.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: `${prefix}/${archive.split('/').pop()}` }));
    assert.equal(retention.Retention?.Mode, 'COMPLIANCE');
    const days = (retention.Retention!.RetainUntilDate!.getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 0.99 && days <= 1.001, `retained for ${days} days`);
  } finally {
    client.destroy();
  }
});

// ---- SFTP (Debian's OpenSSH sshd, SFTP only; the stack's key and known_hosts) ----

const sftp = () => ({ HOSSADM_SFTP_KEY_FILE: servers.HOSSADM_SFTP_KEY_FILE!, HOSSADM_SFTP_KNOWN_HOSTS: servers.HOSSADM_SFTP_KNOWN_HOSTS! });
/** The target's folder as the server's disk holds it. */
const sftpFolder = () => join(offsiteDir, 'sftp', 'home', 'hoss', 'backups');

test('SFTP: the encrypted archive copied (read back, then renamed), no plaintext on the server; list and check read the target; the stack and the local archives destroyed, restore <target>/<name> with the identity gives the same fingerprint', async () => {
  const target = servers.HOSSADM_TEST_SFTP_TARGET!;
  const name = archive.split('/').pop()!;
  const copy = JSON.parse(ok(await tool(['--json', 'copy', archive, target], sftp()), 'copy to SFTP').stdout) as { target: string; name: string; bytes: number };
  assert.deepEqual([copy.target, copy.name], [target, name]);
  assert.deepEqual(await readdir(sftpFolder()), [name], 'only the final name, no partial file');
  const uploaded = await readFile(join(sftpFolder(), name));
  assert.equal(uploaded.length, copy.bytes);
  assertSealed(uploaded);

  const listed = JSON.parse(ok(await tool(['--json', 'list', '--from', target], sftp()), 'list --from SFTP').stdout) as Array<{ name: string }>;
  assert.deepEqual(listed.map((r) => r.name), [name]);
  const check = await tool(['check', '--from', target, '--max-age', '1h'], sftp());
  assert.equal(check.code, 0, check.stdout + check.stderr);

  await destroyAndRestoreFrom(target, name, sftp(), 'restore from SFTP');
});

test('SFTP: a wrong key, an unknown host key and a key file readable by others are refused in one line with exit 3; nothing changes on the server', async () => {
  const target = servers.HOSSADM_TEST_SFTP_TARGET!;
  const before = await readdir(sftpFolder());
  const other = join(root, 'other_sftp_key');
  await writeFile(other, ssh2.utils.generateKeyPairSync('ed25519').private, { mode: 0o600 });
  refused(await tool(['copy', archive, target], { ...sftp(), HOSSADM_SFTP_KEY_FILE: other }), 3, /the server refused the login of hoss/);
  const empty = join(root, 'empty_known_hosts');
  await writeFile(empty, '');
  refused(await tool(['copy', archive, target], { ...sftp(), HOSSADM_SFTP_KNOWN_HOSTS: empty }), 3, /host key of \[127\.0\.0\.1\]:\d+ \(SHA256:\S+\) is not in /);
  await chmod(other, 0o644);
  refused(await tool(['list', '--from', target], { ...sftp(), HOSSADM_SFTP_KEY_FILE: other }), 3, /readable by others \(mode 644\)/);
  assert.deepEqual(await readdir(sftpFolder()), before);
});
