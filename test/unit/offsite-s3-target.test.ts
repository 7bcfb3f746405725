// The S3 target against an in-memory S3: target URLs, retries with backoff
// on transient failures only, the multipart upload aborted on any failure
// with nothing under the final name, refusals as typed errors.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ConfigError, OperationError, UsageError } from '../../src/errors.ts';
import '../../src/offsite/kinds.ts';
import { isTargetUrl, openTarget, splitArchiveUrl } from '../../src/offsite/registry.ts';
import { isTransient, withRetry } from '../../src/offsite/retry.ts';
import { inParts, parseS3Url, partSizeFor, S3Target } from '../../src/offsite/s3-target.ts';
import { copyTargets } from '../../src/cli/target-options.ts';
import { listRemote } from '../../src/core/offsite-catalog.ts';
import { copyToTargets } from '../../src/core/offsite-copy.ts';
import { SilentReporter } from '../../src/ui/reporter.ts';
import type { Target } from '../../src/offsite/target.ts';
import { s3SettingsFrom } from '../../src/offsite/s3-settings.ts';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeS3Api, s3Error } from '../support/fake-s3-api.ts';

const NAME = 'hoss-backup-20261201T020304Z.tar.zst';
const MiB = 1024 * 1024;
const noWait = { attempts: 4, baseDelayMs: 500, sleep: async () => undefined };

function target(api: FakeS3Api, waits: number[] = []): S3Target {
  return new S3Target('s3://archives/nightly/', api, {
    retry: { attempts: 4, baseDelayMs: 500, sleep: async (ms) => void waits.push(ms) },
  });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function put(t: S3Target, data: Buffer, sha256 = sha(data)): Promise<void> {
  // Small chunks, as a file stream gives them: the parts are cut across chunk boundaries.
  const chunks = Array.from({ length: Math.ceil(data.length / 65_536) }, (_, i) => data.subarray(i * 65_536, (i + 1) * 65_536));
  return t.put(NAME, Readable.from(chunks), { bytes: data.length, sha256 });
}

test('target URLs: bucket and prefix, names in a target, unknown kinds and bad buckets refused', async () => {
  assert.deepEqual(parseS3Url('s3://archives'), { bucket: 'archives', prefix: '' });
  assert.deepEqual(parseS3Url('s3://archives/a/b/'), { bucket: 'archives', prefix: 'a/b' });
  assert.throws(() => parseS3Url('s3://Bad_Bucket/x'), UsageError);
  assert.throws(() => parseS3Url('s3://archives/a/../b'), UsageError);
  assert.equal(isTargetUrl('s3://archives'), true);
  assert.equal(isTargetUrl('/var/backups/x.tar.zst'), false);
  assert.deepEqual(splitArchiveUrl(`s3://archives/nightly/${NAME}`), { target: 's3://archives/nightly', name: NAME });
  assert.deepEqual(splitArchiveUrl('s3://archives/latest'), { target: 's3://archives', name: 'latest' });
  assert.equal(splitArchiveUrl('s3://archives/nightly'), undefined);
  assert.deepEqual(splitArchiveUrl(`s3://archives/nightly/${NAME}.age`), { target: 's3://archives/nightly', name: `${NAME}.age` });
  assert.equal(splitArchiveUrl(`s3://archives/nightly/${NAME}.sha256`), undefined);
  await assert.rejects(openTarget('ftp://host/x', {}), (e: Error) => e instanceof UsageError && /not a target hossadm knows/.test(e.message));
  await assert.rejects(openTarget('s3://archives', {}), (e: Error) => e instanceof ConfigError && /no S3 credentials/.test(e.message));
  assert.equal(new S3Target('s3://archives/nightly/', new FakeS3Api()).url, 's3://archives/nightly');
});

test('copy targets come from --copy-to, else HOSSADM_COPY_TO; anything not a URL is refused', () => {
  assert.deepEqual(copyTargets(['s3://a1b/x'], { HOSSADM_COPY_TO: 's3://other/y' }), ['s3://a1b/x']);
  assert.deepEqual(copyTargets(undefined, { HOSSADM_COPY_TO: 's3://one/x, sftp://u@h/p' }), ['s3://one/x', 'sftp://u@h/p']);
  assert.deepEqual(copyTargets(undefined, {}), []);
  assert.throws(() => copyTargets(['/mnt/usb'], {}), UsageError);
});

test('retries: transient failures again after 0.5 s, 1 s, 2 s; a refusal at once; the last error when tries run out', async () => {
  assert.equal(isTransient(s3Error('InternalError', 500)), true);
  assert.equal(isTransient(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), true);
  assert.equal(isTransient(s3Error('AccessDenied', 403)), false);
  assert.equal(isTransient(s3Error('NoSuchKey', 404)), false);

  const waits: number[] = [];
  let tries = 0;
  const value = await withRetry(
    async () => {
      if (++tries < 3) throw s3Error('ServiceUnavailable', 503);
      return 'done';
    },
    { attempts: 5, baseDelayMs: 500, sleep: async (ms) => void waits.push(ms) },
  );
  assert.equal(value, 'done');
  assert.deepEqual(waits, [500, 1000]);

  tries = 0;
  await assert.rejects(
    withRetry(async () => {
      tries++;
      throw s3Error('AccessDenied', 403);
    }, noWait),
    /AccessDenied/,
  );
  assert.equal(tries, 1, 'a 403 is not tried again');

  tries = 0;
  await assert.rejects(
    withRetry(async () => {
      tries++;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    }, noWait),
    /ECONNREFUSED/,
  );
  assert.equal(tries, 4);
});

test('parts: 8 MiB each (the last shorter), larger only beyond 10,000 parts', async () => {
  assert.equal(partSizeFor(1), 8 * MiB);
  assert.equal(partSizeFor(200 * 1024 * MiB), 21 * MiB);
  const data = randomBytes(20 * MiB + 7);
  const sizes: number[] = [];
  for await (const part of inParts(Readable.from([data.subarray(0, 3), data.subarray(3)]), 8 * MiB)) sizes.push(part.length);
  assert.deepEqual(sizes, [8 * MiB, 8 * MiB, 4 * MiB + 7]);
});

test('an archive is sent in checksummed parts and appears whole under its name', async () => {
  const api = new FakeS3Api();
  const t = target(api);
  const data = randomBytes(17 * MiB);
  await put(t, data);
  assert.deepEqual(api.objects.get(`archives/nightly/${NAME}`), data);
  assert.deepEqual(api.calls, ['createMultipart', 'uploadPart 1', 'uploadPart 2', 'uploadPart 3', 'completeMultipart']);
  assert.deepEqual(await t.list(), [{ name: NAME, bytes: data.length }]);
  assert.equal(api.mostReceiving, 3, 'the parts travel at once');
  const back: Buffer[] = [];
  for await (const chunk of await t.get(NAME)) back.push(chunk as Buffer);
  assert.deepEqual(Buffer.concat(back), data);
});

test('a transient failure of one part is retried with backoff and the upload completes', async () => {
  const api = new FakeS3Api();
  const waits: number[] = [];
  api.fail('uploadPart', s3Error('InternalError', 500), Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
  await put(target(api, waits), randomBytes(MiB));
  assert.deepEqual(waits, [500, 1000]);
  assert.equal(api.objects.size, 1);
  assert.deepEqual(api.aborted, []);
});

test('at most four parts are on their way at once, so memory stays bounded', async () => {
  const api = new FakeS3Api();
  await put(target(api), randomBytes(80 * MiB));
  assert.equal(api.mostReceiving, 4);
  assert.equal(api.objects.get(`archives/nightly/${NAME}`)?.length, 80 * MiB);
});

test('a failed part aborts the upload: nothing under the final name, a typed error', async () => {
  const api = new FakeS3Api();
  api.fail('uploadPart', s3Error('InternalError', 500), s3Error('InternalError', 500), s3Error('InternalError', 500), s3Error('InternalError', 500));
  await assert.rejects(put(target(api), randomBytes(MiB)), (e: Error) => e instanceof OperationError && /cannot send part 1 of/.test(e.message));
  assert.equal(api.objects.size, 0);
  assert.equal(api.uploads.size, 0, 'the upload was aborted');
  assert.equal(api.aborted.length, 1);
  assert.ok(!api.calls.includes('completeMultipart'));
});

test('a refusal (403) is not retried and names the credentials; a missing bucket says so', async () => {
  const api = new FakeS3Api();
  api.fail('uploadPart', s3Error('AccessDenied', 403));
  await assert.rejects(put(target(api), randomBytes(1000)), (e: Error) => e instanceof ConfigError && /access denied \(AccessDenied\)/.test(e.message));
  assert.deepEqual(api.calls, ['createMultipart', 'uploadPart 1', 'abortMultipart']);
  assert.equal(api.objects.size, 0);

  const missing = new FakeS3Api();
  missing.fail('createMultipart', s3Error('NoSuchBucket', 404));
  await assert.rejects(put(target(missing), randomBytes(1000)), (e: Error) => e instanceof ConfigError && /the bucket does not exist/.test(e.message));
});

test('a stream that does not hash to the given sha256 (the file changed) is aborted, not stored', async () => {
  const api = new FakeS3Api();
  await assert.rejects(put(target(api), randomBytes(3 * MiB), 'f'.repeat(64)), (e: Error) => e instanceof OperationError && /changed while it was sent/.test(e.message));
  assert.equal(api.objects.size, 0);
  assert.equal(api.aborted.length, 1);
});

test('a stream that breaks mid-way aborts the upload', async () => {
  const api = new FakeS3Api();
  const data = randomBytes(9 * MiB);
  const broken = new Readable({
    read() {
      this.push(data);
      this.destroy(Object.assign(new Error('disk read failed'), { code: 'EIO' }));
    },
  });
  await assert.rejects(target(api).put(NAME, broken, { bytes: 20 * MiB, sha256: sha(data) }), /disk read failed/);
  assert.equal(api.objects.size, 0);
  assert.equal(api.aborted.length, 1);
});

test('a delete refused to write-only keys is a configuration error naming the need', async () => {
  const api = new FakeS3Api();
  api.fail('deleteObject', s3Error('AccessDenied', 403));
  await assert.rejects(target(api).remove(NAME), (e: Error) => e instanceof ConfigError && /cannot delete .*access denied/.test(e.message));
  await assert.rejects(target(api).get(NAME), (e: Error) => e instanceof UsageError && /no archive/.test(e.message));
});

test('S3 settings: keys from the environment or a mode-600 file (one readable by others refused), the endpoint checked', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hossadm-s3-settings-'));
  try {
    const file = join(dir, 'keys');
    await writeFile(file, 'AWS_ACCESS_KEY_ID=fromfile\nAWS_SECRET_ACCESS_KEY=secret\n', { mode: 0o600 });
    const settings = await s3SettingsFrom({ HOSSADM_S3_CREDENTIALS_FILE: file, AWS_ACCESS_KEY_ID: 'env', AWS_SECRET_ACCESS_KEY: 'env', AWS_REGION: 'eu-west-1' });
    assert.deepEqual([settings.accessKeyId, settings.region, settings.endpoint], ['fromfile', 'eu-west-1', undefined]);
    await chmod(file, 0o644);
    await assert.rejects(s3SettingsFrom({ HOSSADM_S3_CREDENTIALS_FILE: file }), (e: Error) => e instanceof ConfigError && /readable by others \(mode 644\)/.test(e.message));
    await assert.rejects(s3SettingsFrom({ HOSSADM_S3_ENDPOINT: 'ftp://x', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }), ConfigError);
    await assert.rejects(s3SettingsFrom({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', HOSSADM_S3_CA_FILE: join(dir, 'missing.pem') }), /cannot read the S3 CA file/);
    assert.equal((await s3SettingsFrom({ HOSSADM_S3_ENDPOINT: 'https://s3.example.net:9000', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })).region, 'us-east-1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a target lists as archives only the names hossadm writes: a side file beside an archive is not one, nor the latest', async () => {
  const names = [NAME, `${NAME}.sha256`, 'hoss-backup-20261130T020304Z.tar.zst.age', 'other-backup-20261202T020304Z.tar.zst'];
  const target = { list: async () => names.map((name) => ({ name, bytes: 1 })) } as unknown as Target;
  assert.deepEqual(
    (await listRemote(target, 'hoss-backup')).map((e) => e.name),
    [NAME, 'hoss-backup-20261130T020304Z.tar.zst.age'],
  );
});

test('copies to several targets read the archive once for its checksum, and each target gets that sha256', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hossadm-copies-'));
  try {
    const path = join(dir, NAME);
    const bytes = randomBytes(200_000);
    await writeFile(path, bytes);
    const got: string[] = [];
    const target = (url: string) =>
      ({
        url,
        put: async (_name: string, source: Readable, options: { sha256: string }) => {
          for await (const _ of source);
          got.push(options.sha256);
        },
      }) as unknown as Target;
    const reporter = new SilentReporter();
    await copyToTargets([target('s3://a/x'), target('sftp://u@h/y')], path, reporter);
    assert.deepEqual(got, Array(2).fill(createHash('sha256').update(bytes).digest('hex')));
    assert.equal(reporter.lines.filter((l) => l.startsWith('checksum ')).length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
