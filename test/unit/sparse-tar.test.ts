// The GNU tar helper for volumes: its scripts keep holes, the choice
// between it and busybox, and the rewriting that lets busybox tar extract
// what the GNU helper wrote. Real tar programs run here (the host's GNU tar
// and static busybox), never a model of them.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { expandSparseMembers } from '../../src/components/tree/sparse-expand.ts';
import { chooseTarImage } from '../../src/components/volumes/volumes-component.ts';
import { tarTreeIn, tarTreeOut } from '../../src/docker/tree-helper.ts';
import { OperationError } from '../../src/errors.ts';
import { FakeDocker } from '../support/fake-docker.ts';

const BUSYBOX = '/bin/busybox';
const MiB = 1024 * 1024;
const LONG = 'n'.repeat(180);
let root: string;
let tree: string;

/** A file with holes before, between and after its data, as LDAP's map has. */
async function writeSparse(path: string, size: number, writes: { at: number; text: string }[]): Promise<void> {
  await writeFile(path, '');
  execFileSync('truncate', ['-s', String(size), path]);
  for (const { at, text } of writes) execFileSync('sh', ['-c', 'printf %s "$1" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none', 'w', text, path, String(at)]);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hossadm-sparse-'));
  tree = join(root, 'tree');
  await mkdir(join(tree, 'dir ü'), { recursive: true });
  await writeSparse(join(tree, 'map'), 64 * MiB, [
    { at: 5 * MiB, text: 'first' },
    { at: 40 * MiB + 3, text: 'second' },
  ]);
  await writeSparse(join(tree, 'all-hole'), 3 * MiB, []);
  await writeFile(join(tree, 'plain'), 'plain contents\n');
  await writeFile(join(tree, 'dir ü', LONG), 'long name\n');
  await symlink('plain', join(tree, 'link'));
  await link(join(tree, 'map'), join(tree, 'map-hard'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Path, type, size and sha256 of every entry, sorted. */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const relative = path.slice(dir.length + 1);
    if (entry.isSymbolicLink()) out.push(`${relative} link`);
    else if (entry.isDirectory()) out.push(`${relative} dir`);
    else out.push(`${relative} ${(await stat(path)).size} ${createHash('sha256').update(await readFile(path)).digest('hex').slice(0, 16)}`);
  }
  return out.sort();
}

/** Runs a program with `input` on its stdin, resolving with its exit code and stderr. */
function run(command: string, args: string[], input: Readable | Buffer, cwd: string): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    child.stdin.on('error', () => undefined);
    if (Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

async function helperWrites(docker: FakeDocker, out: string): Promise<Buffer> {
  await mkdir(out, { recursive: true });
  const mounts = [
    { source: tree, target: '/tree', readOnly: true },
    { source: out, target: '/out' },
  ];
  const count = await tarTreeOut({ docker, image: 'gnutar', runId: 'r1', purpose: 'backup test tree', mounts, sparse: true }, '/tree', '/out/member.tar');
  assert.equal(count.entries, 7);
  assert.equal(count.bytes, 64 * MiB + 3 * MiB + 15 + 10, 'apparent sizes, the hard link once');
  return readFile(join(out, 'member.tar'));
}

test('the GNU tar helper stores holes as PAX 1.0 sparse members and extracts them sparse, byte for byte', async () => {
  const docker = new FakeDocker(root);
  docker.images.add('gnutar');
  const member = await helperWrites(docker, join(root, 'out-gnu'));
  assert.ok(member.length < MiB, `the member holds the data, not the holes (${member.length} bytes)`);
  assert.match(member.toString('latin1'), /GNU\.sparse\.major=1\n/);
  assert.doesNotMatch(member.toString('latin1'), / (atime|ctime|mtime)=/, 'no per-entry time records');
  const helper = docker.helpers.at(-1)!;
  assert.equal(helper.script, 'tar-out');

  const restored = join(root, 'restored-gnu');
  await writeFile(join(root, 'out-gnu', 'stale'), '');
  const mounts = [
    { source: restored, target: '/tree' },
    { source: join(root, 'out-gnu'), target: '/in', readOnly: true },
  ];
  const count = await tarTreeIn({ docker, image: 'gnutar', runId: 'r1', purpose: 'restore test tree', mounts, sparse: true }, '/tree', '/in/member.tar');
  assert.equal(count.entries, 7);
  assert.deepEqual(await listing(restored), await listing(tree));
  const map = await stat(join(restored, 'map'));
  assert.equal(map.size, 64 * MiB);
  assert.ok(map.blocks * 512 < MiB, `restored sparse: ${map.blocks * 512} bytes on disk for ${map.size}`);
  assert.equal(map.nlink, 2, 'the hard link is a link again');
  assert.equal((await stat(join(restored, 'all-hole'))).blocks, 0);
});

test('busybox helpers: the tar line is busybox tar, no GNU flag reaches it', async () => {
  const out = join(root, 'out-busybox');
  await mkdir(out, { recursive: true });
  const mounts = [
    { source: tree, target: '/tree', readOnly: true },
    { source: out, target: '/out' },
  ];
  const record = async (sparse: boolean) => {
    const fake = new FakeDocker(root);
    fake.images.add('gnutar');
    const scripts: string[] = [];
    const runHelper = fake.runHelper.bind(fake);
    fake.runHelper = async (helperRun) => {
      scripts.push(helperRun.argv[2]!);
      return runHelper(helperRun);
    };
    await tarTreeOut({ docker: fake, image: sparse ? 'gnutar' : 'busybox', runId: 'r2', purpose: 'backup', mounts, sparse }, '/tree', '/out/m.tar');
    return scripts[0]!;
  };
  assert.match(await record(true), /tar --create --file="\$out" --format=posix --sparse --sparse-version=1\.0 .*--numeric-owner -- "\$@"/);
  assert.match(await record(false), /^tar -c -f "\$out" "\$@"$/m);
  assert.doesNotMatch(await record(false), /--sparse/);
});

test('the helper is GNU tar when its image is on the host, busybox otherwise or when turned off', async () => {
  const present = new Set(['hoss-local/gnutar:local']);
  const docker = { imageExists: async (name: string) => present.has(name) };
  assert.equal(await chooseTarImage(docker, 'hoss-local/gnutar:local'), 'hoss-local/gnutar:local');
  assert.equal(await chooseTarImage(docker, 'debian:bookworm-slim'), undefined, 'not on this host: busybox');
  assert.equal(await chooseTarImage(docker, 'none'), undefined, 'turned off');
  assert.equal(await chooseTarImage(docker, undefined), undefined, 'none configured');
});

test('busybox extracts a GNU-written member rewritten on its way: real names, zeros in the holes', { skip: !existsSync(BUSYBOX) && 'no static busybox on this host' }, async () => {
  const docker = new FakeDocker(root);
  docker.images.add('gnutar');
  const member = await helperWrites(docker, join(root, 'out-expand'));
  const target = join(root, 'restored-busybox');
  await mkdir(target);
  const extracted = await run(BUSYBOX, ['tar', '-x', '-f', '-'], Readable.from(expandSparseMembers(Readable.from([member]))), target);
  assert.equal(extracted.code, 0, extracted.stderr);
  assert.deepEqual(await listing(target), await listing(tree));
  // The rewritten stream is a valid tar for GNU tar as well, with plain members only.
  const rewritten = Buffer.concat(await Readable.from(expandSparseMembers(Readable.from([member]))).toArray());
  const verbose = await run('tar', ['-tvf', '-'], rewritten, root);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.doesNotMatch(rewritten.toString('latin1'), /GNU\.sparse|GNUSparseFile/);
  assert.match(verbose.stdout.toString(), /-rw-r--r-- 0\/0 +67108864 .*\.\/map(-hard)?\n/);
});

test('a member busybox wrote passes through the rewriting byte for byte', { skip: !existsSync(BUSYBOX) && 'no static busybox on this host' }, async () => {
  const written = await run(BUSYBOX, ['tar', '-c', '-f', '-', '.'], Buffer.alloc(0), tree);
  assert.equal(written.code, 0, written.stderr);
  // Delivered in odd-sized pieces, so block boundaries fall inside chunks.
  const pieces: Buffer[] = [];
  for (let at = 0; at < written.stdout.length; at += 7919) pieces.push(written.stdout.subarray(at, at + 7919));
  const passed = Buffer.concat(await Readable.from(expandSparseMembers(Readable.from(pieces))).toArray());
  assert.equal(Buffer.compare(passed, written.stdout), 0);
});

test('an old GNU sparse member, which nothing here writes, is refused in one line', async () => {
  const old = execFileSync('tar', ['--format=gnu', '--sparse', '-cf', '-', 'map'], { cwd: tree, maxBuffer: 64 * MiB });
  await assert.rejects(
    Readable.from(expandSparseMembers(Readable.from([old]))).toArray(),
    (error: unknown) => error instanceof OperationError && /old GNU sparse member, which busybox tar cannot extract/.test(error.message),
  );
});
