// A failed or interrupted backup leaves no file under a final name, and no
// staged or partial file behind.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import { ExitCode, HossError, InterruptedError, PreflightError } from '../../src/errors.ts';
import { writeArchive } from '../../src/archive/archive-writer.ts';
import { CODECS } from '../../src/archive/codec.ts';
import { stageMember } from '../../src/archive/member-writer.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { MTIME, SAMPLE_MEMBERS, buildArchive, sampleBytes, sha256, tempDir } from './archive-support.ts';

const run = promisify(execFile);

/** `good` bytes, then an error, as a helper container dying half-way would look. */
function failingAfter(good: number, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(sampleBytes(good, 1));
      } else {
        this.destroy(error);
      }
    },
  });
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).sort();
}

describe('staging a member', () => {
  for (const codec of CODECS) {
    test(`${codec}: a producer error rejects and removes the staged file`, async (t) => {
      const dir = await tempDir(t);
      const path = join(dir, 'volumes', 'x.staged');
      const failure = new Error('helper container exited 1');
      await assert.rejects(stageMember(failingAfter(300_000, failure), path, codec), failure);
      assert.equal(existsSync(path), false);
    });

    test(`${codec}: an abort rejects with the abort reason and removes the staged file`, async (t) => {
      const dir = await tempDir(t);
      const path = join(dir, 'x.staged');
      const controller = new AbortController();
      const chunk = sampleBytes(64 * 1024, 3);
      let sent = 0;
      const input = new Readable({
        read() {
          if (++sent === 20) controller.abort(new InterruptedError('interrupted by SIGINT'));
          setImmediate(() => this.push(chunk));
        },
      });
      await assert.rejects(stageMember(input, path, codec, controller.signal), (error: unknown) => error instanceof InterruptedError && /SIGINT/.test(error.message));
      assert.equal(existsSync(path), false);
      assert.equal(input.destroyed, true);
    });
  }

  test('an already aborted signal stages nothing', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'x.staged');
    const input = Readable.from([Buffer.from('x')]);
    await assert.rejects(stageMember(input, path, 'zstd', AbortSignal.abort()), (error: unknown) => error instanceof HossError && error.exitCode === ExitCode.interrupted);
    assert.equal(existsSync(path), false);
  });
});

describe('writing the archive', () => {
  test('an abort during assembly leaves neither the final nor the partial file', async (t) => {
    const dir = await tempDir(t);
    const big = { name: 'volumes/big.tar', data: sampleBytes(24 * 1024 * 1024, 5) };
    const stagedPath = join(dir, '.current', 'big.staged');
    const staged = await stageMember(Readable.from([big.data]), stagedPath, 'none');
    const members = [{ name: big.name, stagedPath, size: staged.size, sha256: staged.sha256 }];
    const finalPath = join(dir, 'out', 'hoss-backup.tar');
    await mkdir(join(dir, 'out'));
    const controller = new AbortController();
    const writing = writeArchive({ finalPath, codec: 'none', manifest: { formatVersion: 1, members: members.map(({ stagedPath: _, ...m }) => m) }, members, mtime: MTIME, signal: controller.signal });
    // Abort once the partial file exists, i.e. in the middle of the copy.
    while (!existsSync(`${finalPath}.partial`)) await new Promise((resolve) => setImmediate(resolve));
    controller.abort(new InterruptedError('interrupted by SIGTERM'));
    await assert.rejects(writing, (error: unknown) => error instanceof InterruptedError);
    assert.deepEqual(await readdir(join(dir, 'out')), []);
  });

  test('an existing file under the final name is neither replaced nor touched', async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, 'zstd', SAMPLE_MEMBERS.slice(0, 1));
    const before = await readFile(archive.path);
    await assert.rejects(
      writeArchive({ finalPath: archive.path, codec: 'zstd', manifest: archive.manifest, members: archive.staged, mtime: MTIME }),
      (error: unknown) => error instanceof PreflightError && /already exists/.test(error.message),
    );
    assert.ok((await readFile(archive.path)).equals(before));
    assert.equal(existsSync(`${archive.path}.partial`), false);
  });

  test('a leftover partial file from a killed run is replaced', async (t) => {
    const dir = await tempDir(t);
    const finalPath = join(dir, 'hoss-backup-20240506T070809Z.tar.zst');
    await writeFile(`${finalPath}.partial`, 'left by a killed run', { mode: 0o644 });
    await buildArchive(dir, 'zstd', SAMPLE_MEMBERS.slice(0, 2));
    await verifyArchive(finalPath);
    assert.equal(existsSync(`${finalPath}.partial`), false);
  });

  test('a manifest that does not match the staged members is a bug, and nothing is written', async (t) => {
    const dir = await tempDir(t);
    const archive = await buildArchive(dir, 'gzip', SAMPLE_MEMBERS.slice(0, 2));
    const finalPath = join(dir, 'other.tar.gz');
    const write = (manifest: object, members = archive.staged, codec: 'gzip' | 'zstd' = 'gzip') =>
      writeArchive({ finalPath, codec, manifest, members, mtime: MTIME });
    const [first, second] = archive.manifest.members as [(typeof archive.manifest.members)[0], (typeof archive.manifest.members)[0]];
    await assert.rejects(write({ formatVersion: 1, members: [first] }), /not listed in the manifest/);
    await assert.rejects(write({ formatVersion: 1, members: [first, { ...second, size: second.size + 1 }] }), /differs/);
    await assert.rejects(write({ formatVersion: 1, members: [first, second, { name: 'x', size: 0, sha256: sha256(Buffer.alloc(0)) }] }), /no staged file/);
    await assert.rejects(write(archive.manifest, archive.staged, 'zstd'), /is not zstd data/);
    await assert.rejects(write({ formatVersion: 1, members: [first, { ...second, name: '../escape' }] }), /contains '\.\.'/);
    assert.equal(existsSync(finalPath), false);
    assert.equal(existsSync(`${finalPath}.partial`), false);
  });
});

/** A 2 MiB file system, to run out of space for real; skipped where mounting is not allowed. */
async function smallFileSystem(t: TestContext): Promise<string | undefined> {
  const mountPoint = await mkdtemp(join(tmpdir(), 'hossadm-full-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', mountPoint]);
  } catch {
    await rm(mountPoint, { recursive: true });
    t.skip('cannot mount a tmpfs here (needs root)');
    return undefined;
  }
  t.after(async () => {
    await run('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true });
  });
  return mountPoint;
}

describe('disk full', () => {
  test('staging fails with ENOSPC and leaves no staged file', async (t) => {
    const full = await smallFileSystem(t);
    if (!full) return;
    const path = join(full, 'big.staged');
    const big = Readable.from((function* () { for (let i = 0; i < 64; i++) yield sampleBytes(64 * 1024, i); })());
    await assert.rejects(stageMember(big, path, 'none'), (error: NodeJS.ErrnoException) => error.code === 'ENOSPC');
    assert.deepEqual(await files(full), []);
  });

  test('assembly fails with ENOSPC and leaves no archive and no partial file', async (t) => {
    const full = await smallFileSystem(t);
    if (!full) return;
    const dir = await tempDir(t);
    const data = sampleBytes(3 * 1024 * 1024, 9);
    const stagedPath = join(dir, 'm.staged');
    const staged = await stageMember(Readable.from([data]), stagedPath, 'none');
    const members = [{ name: 'volumes/big.tar', stagedPath, size: staged.size, sha256: staged.sha256 }];
    await assert.rejects(
      writeArchive({ finalPath: join(full, 'hoss-backup.tar'), codec: 'none', manifest: { formatVersion: 1, members: [{ name: 'volumes/big.tar', size: staged.size, sha256: staged.sha256 }] }, members, mtime: MTIME }),
      (error: NodeJS.ErrnoException) => error.code === 'ENOSPC',
    );
    assert.deepEqual(await files(full), []);
  });
});
