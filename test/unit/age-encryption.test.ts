import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duplex, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { createEncryptStream, openAgeFile } from '../../src/archive/age/age-file.ts';
import { loadIdentities, loadRecipients, parseRecipients } from '../../src/archive/age/keys.ts';
import { bech32Decode, bech32Encode } from '../../src/archive/age/bech32.ts';
import { readArchiveMembers } from '../../src/archive/archive-reader.ts';
import { writeArchive } from '../../src/archive/archive-writer.ts';
import { ByteSource } from '../../src/archive/byte-source.ts';
import { checkFileKept } from '../../src/archive/file-sha256.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { ArchiveError, ConfigError, ExitCode, IdentityMismatchError } from '../../src/errors.ts';
import { ageDecrypt, ageEncrypt, ageKeygen, type AgeKey } from '../support/age-cli.ts';
import { buildArchive, MTIME, sampleBytes, tempDir } from './archive-support.ts';

async function recipientsFile(dir: string, name: string, keys: readonly AgeKey[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `# backup recipients\n\n${keys.map((k) => `${k.recipient}\n`).join('')}`);
  return file;
}

/** Stages the sample members and writes them encrypted to `recipients`, as an encrypted backup does. */
async function encryptedArchive(dir: string, recipients: string): Promise<{ path: string; sealedSha256: string; members: number }> {
  const plain = await buildArchive(dir, 'zstd');
  const path = join(dir, 'hoss-backup-20240506T070809Z.tar.zst.age');
  const written = await writeArchive({ finalPath: path, codec: 'zstd', manifest: plain.manifest, members: plain.staged, mtime: MTIME, encryptTo: await loadRecipients(recipients) });
  assert.ok(written.sealed);
  return { path, sealedSha256: written.sha256, members: written.sealed.verified.members.length };
}

async function flipped(path: string, offset: number, to: string): Promise<string> {
  const bytes = await readFile(path);
  bytes[offset]! ^= 0x01;
  await writeFile(to, bytes);
  return to;
}

describe('age encryption', () => {
  test('Bech32 keys: encode and decode agree, a changed character is refused', () => {
    const data = Buffer.from(sampleBytes(32, 5));
    const text = bech32Encode('age', data);
    assert.deepEqual(bech32Decode(text), { hrp: 'age', data });
    const damaged = text.slice(0, 10) + (text[10] === 'q' ? 'p' : 'q') + text.slice(11);
    assert.equal(bech32Decode(damaged), undefined);
    assert.throws(() => parseRecipients(`${damaged}\n`, 'r.txt'), (e: unknown) => e instanceof ConfigError && /r\.txt, line 1/.test(e.message));
  });

  test('an archive hossadm encrypts to two recipients: the age CLI opens it with either key; hossadm verifies it with either', async (t) => {
    const dir = await tempDir(t);
    const [one, two] = [await ageKeygen(dir, 'one'), await ageKeygen(dir, 'two')];
    const archive = await encryptedArchive(dir, await recipientsFile(dir, 'recipients.txt', [one, two]));
    assert.equal(archive.members, 4);
    const bytes = await readFile(archive.path);
    assert.equal(bytes.subarray(0, 22).toString(), 'age-encryption.org/v1\n');
    for (const plaintext of ['config.tar', 'manifest.json', 'hoss_core']) assert.equal(bytes.includes(plaintext), false, plaintext);
    assert.equal(bytes.includes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), false);
    await checkFileKept(archive.path, archive.sealedSha256);
    for (const key of ['one', 'two']) {
      await ageDecrypt(dir, `${key}.key`, 'hoss-backup-20240506T070809Z.tar.zst.age', `by-${key}.tar.zst`);
      const verified = await verifyArchive(join(dir, `by-${key}.tar.zst`));
      assert.equal(verified.members.length, 4);
      const again = await verifyArchive(archive.path, { identities: await loadIdentities(join(dir, `${key}.key`)) });
      assert.deepEqual(again.members, verified.members);
    }
  });

  test('an archive the age CLI encrypted is read by hossadm', async (t) => {
    const dir = await tempDir(t);
    const key = await ageKeygen(dir, 'key');
    const plain = await buildArchive(dir, 'gzip');
    await ageEncrypt(dir, 'key.pub', 'hoss-backup-20240506T070809Z.tar.gz', 'by-age.tar.gz.age');
    const verified = await verifyArchive(join(dir, 'by-age.tar.gz.age'), { identities: await loadIdentities(key.identityFile) });
    assert.deepEqual(
      verified.members.map((m) => m.sha256),
      plain.manifest.members.map((m) => m.sha256),
    );
  });

  test('refused: no identity (exit 3), a wrong identity, a flipped byte in the header or the payload, a cut file (exit 7)', async (t) => {
    const dir = await tempDir(t);
    const [right, wrong] = [await ageKeygen(dir, 'right'), await ageKeygen(dir, 'wrong')];
    const archive = await encryptedArchive(dir, await recipientsFile(dir, 'recipients.txt', [right]));
    const identities = await loadIdentities(right.identityFile);
    await assert.rejects(verifyArchive(archive.path), (e: unknown) => e instanceof ConfigError && e.exitCode === ExitCode.config && /encrypted with age/.test(e.message));
    await assert.rejects(
      verifyArchive(archive.path, { identities: await loadIdentities(wrong.identityFile) }),
      (e: unknown) => e instanceof IdentityMismatchError && e.exitCode === ExitCode.archive && e.message.includes(wrong.identityFile),
    );
    const bytes = await readFile(archive.path);
    const headerEnd = bytes.indexOf('\n---') + 1;
    // In the stanza body, in the MAC, in the payload nonce, in the first chunk, in the last chunk's tag.
    const offsets = [bytes.indexOf('\n', 30) + 5, headerEnd + 10, bytes.indexOf('\n', headerEnd) + 3, bytes.indexOf('\n', headerEnd) + 1 + 16 + 100, bytes.length - 1];
    for (const offset of offsets) {
      const damaged = await flipped(archive.path, offset, join(dir, `flipped-${offset}.age`));
      await assert.rejects(verifyArchive(damaged, { identities }), (e: unknown) => e instanceof ArchiveError && e.exitCode === ExitCode.archive, `byte ${offset}`);
      await assert.rejects(ageDecrypt(dir, 'right.key', `flipped-${offset}.age`, `flipped-${offset}.out`), Error, `age accepted byte ${offset}`);
    }
    for (const length of [10, headerEnd + 40, bytes.length - 17, bytes.length - 1]) {
      const cut = join(dir, `cut-${length}.age`);
      await writeFile(cut, bytes.subarray(0, length));
      const payload = length > headerEnd + 100;
      await assert.rejects(
        verifyArchive(cut, { identities }),
        (e: unknown) => e instanceof ArchiveError && (!payload || /fails authentication/.test(e.message)),
        `cut at ${length}`,
      );
    }
    // Cut exactly at a chunk boundary: the chunk before it was not sealed as the last one.
    const boundary = bytes.indexOf('\n', headerEnd) + 1 + 16 + 64 * 1024 + 16;
    assert.ok(boundary < bytes.length, 'the sample archive spans more than one chunk');
    await writeFile(join(dir, 'boundary.age'), bytes.subarray(0, boundary));
    const members = readArchiveMembers(join(dir, 'boundary.age'), { identities });
    await assert.rejects(members.next(), /chunk 0 .*fails authentication/);
  });

  test('an identity file others may read is refused, naming the file and chmod 600', async (t) => {
    const dir = await tempDir(t);
    const key = await ageKeygen(dir, 'key');
    await chmod(key.identityFile, 0o644);
    await assert.rejects(
      loadIdentities(key.identityFile),
      (e: unknown) => e instanceof ConfigError && e.exitCode === ExitCode.config && e.message.includes(key.identityFile) && e.hint === `chmod 600 ${key.identityFile}`,
    );
    const text = await readFile(key.identityFile, 'utf8');
    assert.match(text, /AGE-SECRET-KEY-1/);
  });

  test('a staged member changed after staging fails the check made while encrypting, and no file is left', async (t) => {
    const dir = await tempDir(t);
    await ageKeygen(dir, 'key');
    const plain = await buildArchive(dir, 'none');
    const victim = plain.staged[1]!;
    const data = await readFile(victim.stagedPath);
    data[100]! ^= 0x20;
    await writeFile(victim.stagedPath, data);
    const path = join(dir, 'hoss-backup-20240506T070810Z.tar.age');
    await assert.rejects(
      writeArchive({ finalPath: path, codec: 'none', manifest: plain.manifest, members: plain.staged, mtime: MTIME, encryptTo: await loadRecipients(join(dir, 'key.pub')) }),
      (e: unknown) => e instanceof ArchiveError && e.message.includes(victim.name),
    );
    await assert.rejects(stat(path), { code: 'ENOENT' });
    await assert.rejects(stat(`${path}.partial`), { code: 'ENOENT' });
    await assert.rejects(checkFileKept(join(dir, 'key.pub'), '0'.repeat(64)), (e: unknown) => e instanceof ArchiveError);
  });

  test('300 MiB stream through encryption and decryption with a slow reader: memory held stays bounded (backpressure), bytes equal', async (t) => {
    const dir = await tempDir(t);
    const key = await ageKeygen(dir, 'key');
    const [recipients, identities] = [await loadRecipients(join(dir, 'key.pub')), await loadIdentities(key.identityFile)];
    const total = 300 * 1024 * 1024;
    const block = sampleBytes(1024 * 1024 + 7, 11);
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const inHash = createHash('sha256');
    const outHash = createHash('sha256');
    const source = Readable.from(
      (function* () {
        while (produced < total) {
          const chunk = block.subarray(0, Math.min(block.length, total - produced));
          produced += chunk.length;
          inHash.update(chunk);
          yield chunk;
        }
      })(),
    );
    const decrypt = Duplex.from(async function* (chunks: AsyncIterable<Buffer>) {
      yield* openAgeFile(new ByteSource(chunks), identities, 'the stream');
    });
    let writes = 0;
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _encoding, done) {
        consumed += chunk.length;
        outHash.update(chunk);
        maxAhead = Math.max(maxAhead, produced - consumed);
        // Every 64th chunk is taken slowly, so the producer must wait for it.
        if (++writes % 64 === 0) setTimeout(done, 1);
        else done();
      },
    });
    await pipeline(source, createEncryptStream(recipients), decrypt, sink);
    assert.equal(consumed, total);
    assert.equal(outHash.digest('hex'), inHash.digest('hex'));
    // Stream buffers of each stage (a few MiB at most), never the 300 MiB.
    assert.ok(maxAhead < 16 * 1024 * 1024, `producer ran ${maxAhead} bytes ahead of the reader`);
  });
});
