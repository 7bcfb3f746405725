// Deterministic content for the bench volume: a mix of a few large files and
// many small ones, the same bytes for the same scale on any machine. The
// content is built in this process as a tar stream and extracted by a
// helper container (the volume belongs to the engine, so only a helper
// writes into it), through a named pipe as hossadm itself does.
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeToContainer } from '../src/core/fifo.ts';
import type { DockerClient } from '../src/docker/types.ts';

/** Per unit of scale: 4 files of 128 MiB and 20 000 files of 0.5–32.5 KiB (about 850 MB). */
export const LARGE_FILES_PER_SCALE = 4;
export const LARGE_FILE_BYTES = 128 * 1024 * 1024;
export const SMALL_DIRS_PER_SCALE = 200;
export const SMALL_FILES_PER_DIR = 100;

const POOL_BYTES = 32 * 1024 * 1024;
const SEGMENT = 64 * 1024;
const OWNER = 1000;
// 2022-01-01T00:00:00Z: a fixed mtime keeps the tree identical run to run.
const MTIME = 1_640_995_200;

const WORDS = (
  'object dataset namespace bucket etag metadata sync core auth ldap queue index shard snapshot ' +
  'the of and to in is for on with as by at from this that be are was it an or not have has ' +
  'image tiff microscope sample plate well channel frame series acquisition experiment user group ' +
  '2022 01 17 42 1024 4096 0x1f 3.14159 true false null id name size value key created modified'
).split(' ');

/**
 * 32 MiB that compresses roughly like mixed real data: one segment in three
 * is incompressible (encrypted zeros, as media or already-compressed files
 * are), two in three are word soup that zstd shrinks about threefold.
 * Larger than zstd -3's 2 MiB window, so slices of it do not compress
 * against each other in a way real files would not.
 */
function buildPool(): Buffer {
  const pool = Buffer.alloc(POOL_BYTES);
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  let state = 0x9e3779b9;
  const next = () => {
    // xorshift32: cheap, deterministic, plenty for picking words.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  for (let offset = 0, index = 0; offset < POOL_BYTES; offset += SEGMENT, index++) {
    const segment = pool.subarray(offset, offset + SEGMENT);
    if (index % 3 === 0) {
      cipher.update(Buffer.alloc(SEGMENT)).copy(segment);
      continue;
    }
    let at = 0;
    while (at < SEGMENT) {
      const r = next();
      const word = WORDS[r % WORDS.length]!;
      at += segment.write(r % 11 === 0 ? `${word}\n` : `${word} `, at, 'latin1');
    }
  }
  return pool;
}

/** A stable pseudo-random offset into the pool for the n-th file. */
function offsetFor(key: string): number {
  return createHash('sha256').update(key).digest().readUInt32BE(0) % POOL_BYTES;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** A ustar header with numeric owner only (no user names), so the helper's tar keeps uids as they are. */
export function ustarHeader(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar name too long: ${name}`);
  const block = Buffer.alloc(512);
  block.write(name, 0, 'utf8');
  block.write(octal(mode, 8), 100, 'ascii');
  block.write(octal(OWNER, 8), 108, 'ascii');
  block.write(octal(OWNER, 8), 116, 'ascii');
  block.write(octal(size, 12), 124, 'ascii');
  block.write(octal(MTIME, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(type, 156, 'ascii');
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/**
 * What a fill holds: the standard mix (per scale unit 4 large files and
 * 200 folders of 100 small ones), or only small files, many of them (the
 * many-small-files case: memory must not grow with the number of files).
 */
export interface FillShape {
  largeFiles: number;
  dirs: number;
  /** Largest small file is 512 bytes plus this, less one. */
  smallSpread: number;
}

export function standardShape(scale: number): FillShape {
  return { largeFiles: LARGE_FILES_PER_SCALE * scale, dirs: SMALL_DIRS_PER_SCALE * scale, smallSpread: 32_768 };
}

/** At least `files` files of 0.5–4.5 KiB in folders of 100, nothing large. */
export function manyFilesShape(files: number): FillShape {
  return { largeFiles: 0, dirs: Math.ceil(files / SMALL_FILES_PER_DIR), smallSpread: 4096 };
}

export interface FillPlan {
  files: number;
  dirs: number;
  bytes: number;
}

export function fillPlan(scale: number, shape: FillShape = standardShape(scale)): FillPlan {
  let bytes = shape.largeFiles * LARGE_FILE_BYTES;
  for (let d = 0; d < shape.dirs; d++) for (let f = 0; f < SMALL_FILES_PER_DIR; f++) bytes += smallSize(d, f, shape.smallSpread);
  return { files: shape.largeFiles + shape.dirs * SMALL_FILES_PER_DIR, dirs: shape.dirs + 2, bytes };
}

function smallSize(dir: number, file: number, spread: number): number {
  return 512 + ((dir * 7919 + file * 104_729) % spread);
}

/** The whole tree as one tar stream; data chunks are views of the pool, so nothing is copied. */
export function* treeTar(scale: number, pool: Buffer = buildPool(), shape: FillShape = standardShape(scale)): Generator<Buffer> {
  const padding = (size: number) => Buffer.alloc((512 - (size % 512)) % 512);
  function* fileData(key: string, size: number): Generator<Buffer> {
    let at = offsetFor(key);
    let left = size;
    while (left > 0) {
      const take = Math.min(left, POOL_BYTES - at, 4 * 1024 * 1024);
      yield pool.subarray(at, at + take);
      left -= take;
      at = (at + take) % POOL_BYTES;
    }
    yield padding(size);
  }
  yield ustarHeader('large/', 0, '5', 0o755);
  for (let i = 0; i < shape.largeFiles; i++) {
    const name = `large/blob-${String(i).padStart(3, '0')}.bin`;
    yield ustarHeader(name, LARGE_FILE_BYTES, '0', 0o644);
    yield* fileData(name, LARGE_FILE_BYTES);
  }
  yield ustarHeader('small/', 0, '5', 0o755);
  for (let d = 0; d < shape.dirs; d++) {
    const dir = `small/d${String(d).padStart(4, '0')}`;
    yield ustarHeader(`${dir}/`, 0, '5', 0o755);
    for (let f = 0; f < SMALL_FILES_PER_DIR; f++) {
      const name = `${dir}/f${String(f).padStart(3, '0')}.dat`;
      const size = smallSize(d, f, shape.smallSpread);
      yield ustarHeader(name, size, '0', 0o644);
      yield* fileData(name, size);
    }
  }
  yield Buffer.alloc(1024);
}

// $1: the pipe. The volume is emptied first, so a re-fill at another scale
// leaves no file of the previous one; the trailing cat drains whatever tar
// leaves unread after its end blocks, so our side never sees a broken pipe.
const FILL_SCRIPT = `
set -e
cd /vol
find . -xdev -mindepth 1 -maxdepth 1 -exec rm -rf {} +
{ tar -x -f - --numeric-owner; cat > /dev/null; } < "$1"
chown ${OWNER}:${OWNER} /vol
`;

export async function fillVolume(docker: DockerClient, opts: { volume: string; scale: number; shape?: FillShape; image: string; pipeDir: string; runId: string }): Promise<void> {
  await writeToContainer(
    { hostDir: opts.pipeDir, name: 'fill.tar' },
    (output) => pipeline(Readable.from(treeTar(opts.scale, undefined, opts.shape), { objectMode: false }), output),
    async () => {
      const result = await docker.runHelper({
        image: opts.image,
        argv: ['sh', '-c', FILL_SCRIPT, 'bench-fill', '/in/fill.tar'],
        mounts: [{ source: opts.volume, target: '/vol' }, { source: opts.pipeDir, target: '/in', readOnly: true }],
        purpose: `bench fill ${opts.volume}`,
        runId: opts.runId,
      });
      if (result.exitCode !== 0) throw new Error(`filling ${opts.volume} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
    },
  );
}
