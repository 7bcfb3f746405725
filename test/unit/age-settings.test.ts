import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { test } from 'node:test';
import { createEncryptStream } from '../../src/archive/age/age-file.ts';
import { bech32Encode } from '../../src/archive/age/bech32.ts';
import { parseIdentities, parseRecipients } from '../../src/archive/age/keys.ts';
import { archiveIdentities, backupRecipients } from '../../src/cli/age-options.ts';
import type { Session } from '../../src/cli/options.ts';
import { archiveDate, listArchives } from '../../src/core/catalog.ts';
import { ExitCode, UsageError } from '../../src/errors.ts';
import { tempDir } from './archive-support.ts';

/** A key pair without the age CLI: a random identity and its recipient line. */
function keyPair(): { identity: string; recipient: string } {
  const identity = bech32Encode('age-secret-key-', randomBytes(32)).toUpperCase();
  const { keys } = parseIdentities(identity, 'generated');
  return { identity, recipient: bech32Encode('age', keys[0]!.publicKey) };
}

test('archive names: .age after the codec extension is one of ours, nothing else is', () => {
  for (const name of ['cybersift-backup-20261122T092140Z.tar.zst.age', 'hoss-backup-20261122T092140Z.tar.gz.age', 'hoss-backup-20261122T092140Z.tar.age']) {
    assert.ok(archiveDate(name, name.split('-20')[0]), name);
  }
  for (const name of ['hoss-backup-20261122T092140Z.age', 'hoss-backup-20261122T092140Z.tar.zst.age.partial', 'hoss-backup-20261122T092140Z.tar.zst.age.age']) {
    assert.equal(archiveDate(name), undefined, name);
  }
});

test('key files: the flag, then the process environment, then .env relative to the config folder; --encrypt alone is a usage error', async (t) => {
  const dir = await tempDir(t);
  const configDir = join(dir, 'config');
  await mkdir(configDir);
  const [a, b, c] = [keyPair(), keyPair(), keyPair()];
  await writeFile(join(configDir, 'from-env-file.txt'), `# .env's\n${a.recipient}\n`);
  await writeFile(join(dir, 'from-process.txt'), `${b.recipient}\n`);
  await writeFile(join(dir, 'from-flag.txt'), `${c.recipient}\n${a.recipient}\n`);
  const stack = { configDir, env: { HOSSADM_AGE_RECIPIENTS: 'from-env-file.txt' } };
  const publicKeyOf = (recipient: string) => parseRecipients(recipient, 'x').keys[0]!.publicKey;

  assert.equal(await backupRecipients({ encrypt: false }, {}, { configDir, env: {} }), undefined);
  await assert.rejects(backupRecipients({ encrypt: true }, {}, { configDir, env: {} }), (e: unknown) => e instanceof UsageError && e.exitCode === ExitCode.usage);
  const fromEnvFile = await backupRecipients({ encrypt: false }, {}, stack);
  assert.equal(fromEnvFile?.file, join(configDir, 'from-env-file.txt'));
  assert.deepEqual(fromEnvFile?.keys[0]?.publicKey, publicKeyOf(a.recipient));
  const fromProcess = await backupRecipients({ encrypt: true }, { HOSSADM_AGE_RECIPIENTS: join(dir, 'from-process.txt') }, stack);
  assert.deepEqual(fromProcess?.keys[0]?.publicKey, publicKeyOf(b.recipient));
  const fromFlag = await backupRecipients({ encrypt: false, recipients: join(dir, 'from-flag.txt') }, { HOSSADM_AGE_RECIPIENTS: join(dir, 'from-process.txt') }, stack);
  assert.equal(fromFlag?.keys.length, 2);

  const identityFile = join(dir, 'restore.key');
  await writeFile(identityFile, `# created: by a test\n# public key: ${a.recipient}\n${a.identity}\n`, { mode: 0o600 });
  await chmod(identityFile, 0o600);
  const session = { source: { environment: { HOSSADM_AGE_IDENTITY: identityFile } } } as unknown as Session;
  assert.equal((await archiveIdentities(undefined, session))?.file, identityFile);
  assert.equal((await archiveIdentities(identityFile, session))?.keys.length, 1);
});

test('listArchives: without a key an encrypted archive is listed by name, time and size, encrypted, with no problem; a wrong key is a problem', async (t) => {
  const dir = await tempDir(t);
  const key = keyPair();
  const path = join(dir, 'hoss-backup-20261122T092140Z.tar.zst.age');
  await pipeline(Readable.from([Buffer.from('not even an archive inside')]), createEncryptStream(parseRecipients(key.recipient, 'r')), createWriteStream(path));
  const [entry] = await listArchives(dir, 'hoss-backup');
  assert.equal(entry?.name, 'hoss-backup-20261122T092140Z.tar.zst.age');
  assert.equal(entry?.encrypted, true);
  assert.equal(entry?.manifest, undefined);
  assert.equal(entry?.problem, undefined);
  assert.deepEqual(entry?.takenAt, new Date('2026-11-22T09:21:40Z'));
  const [wrong] = await listArchives(dir, 'hoss-backup', parseIdentities(keyPair().identity, 'other.key'));
  assert.match(wrong?.problem ?? '', /no identity in other\.key opens/);
  const [right] = await listArchives(dir, 'hoss-backup', parseIdentities(key.identity, 'right.key'));
  assert.match(right?.problem ?? '', /not a hossadm archive/);
});
