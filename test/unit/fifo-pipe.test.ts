// The pipes a container writes into or reads from are used through libuv's
// pipe handle: the bytes arrive whole and in order, our side gets a socket
// (not a file stream allocating a large buffer per read or making a
// thread-pool round trip per write), and a container that fails before it
// ever opens its end does not leave our side waiting.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { readFromContainer, writeToContainer } from '../../src/core/fifo.ts';
import { OperationError } from '../../src/errors.ts';
import { tempDir } from './archive-support.ts';

/** Writes `chunks` into the pipe from another process, as a helper container would. */
function writeFromChild(path: string, chunks: number, chunkBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', `head -c ${chunks * chunkBytes} /dev/urandom | tee "$1.copy" > "$1"`, 'writer', path], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited with ${code}`))));
  });
}

async function hashStream(input: Readable): Promise<{ sha256: string; bytes: number; largest: number; socket: boolean }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let largest = 0;
  for await (const chunk of input as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    largest = Math.max(largest, chunk.length);
  }
  return { sha256: hash.digest('hex'), bytes, largest, socket: input instanceof Socket };
}

test('what a process writes into the pipe arrives whole, through a socket', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'member.tar');
  const read = await readFromContainer({ hostDir: dir, name: 'member.tar' }, hashStream, () => writeFromChild(path, 96, 65536));
  const written = await open(`${path}.copy`, 'r');
  const expected = createHash('sha256').update(await written.readFile()).digest('hex');
  await written.close();
  assert.equal(read.bytes, 96 * 65536);
  assert.equal(read.sha256, expected);
  assert.equal(read.socket, true, 'the consumer is handed a libuv pipe stream');
  assert.ok(read.largest <= 1024 * 1024);
  assert.deepEqual((await readdir(dir)).sort(), ['member.tar.copy'], 'the pipe is removed afterwards');
});

test('a producer that fails before opening its end: the reader wakes, the producer error wins', async (t) => {
  const dir = await tempDir(t);
  const failure = new OperationError('backup volume x: helper container exited with 2', { details: 'no such volume' });
  let consumed = -1;
  const consume = async (input: Readable) => {
    consumed = (await hashStream(input)).bytes;
  };
  await assert.rejects(
    readFromContainer({ hostDir: dir, name: 'x.tar' }, consume, () => Promise.reject(failure)),
    (error: unknown) => error === failure,
  );
  assert.ok(consumed === 0 || consumed === -1, 'the consumer saw an empty stream or was stopped, and did not hang');
  assert.deepEqual(await readdir(dir), []);
});

test('a consumer that fails mid-stream stops the producer and its error is reported', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.tar');
  const broken = new Error('staging failed');
  const consume = (input: Readable) =>
    new Promise<void>((_resolve, reject) => {
      input.once('data', () => {
        input.destroy();
        reject(broken);
      });
    });
  // The writer gets a broken pipe once the reader is gone, so it fails too; either error names the run's failure.
  await assert.rejects(readFromContainer({ hostDir: dir, name: 'x.tar' }, consume, () => writeFromChild(path, 4096, 65536)));
  assert.deepEqual((await readdir(dir)).filter((name) => name === 'x.tar'), []);
});

/** Reads the pipe from another process into `path.copy`, as a restoring helper container would. */
function readFromChild(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', 'cat "$1" > "$1.copy"', 'reader', path], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`reader exited with ${code}`))));
  });
}

test('what this process feeds into the pipe reaches the reading process whole, through a socket', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'member.tar');
  const data = randomBytes(5 * 1024 * 1024 + 17);
  let socket = false;
  const feed = async (output: Writable) => {
    socket = output instanceof Socket;
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), output);
  };
  await writeToContainer({ hostDir: dir, name: 'member.tar' }, feed, () => readFromChild(path));
  assert.equal(socket, true, 'the feeder is handed a libuv pipe stream');
  assert.ok((await readFile(`${path}.copy`)).equals(data));
  assert.deepEqual(await readdir(dir), ['member.tar.copy']);
});

test('a consumer that fails before opening its end: the writer wakes, the consumer error wins', async (t) => {
  const dir = await tempDir(t);
  const failure = new OperationError('restore volume x: helper container exited with 2', { details: 'no such volume' });
  const feed = (output: Writable) => pipeline(Readable.from([Buffer.alloc(4 * 1024 * 1024)]), output);
  await assert.rejects(
    writeToContainer({ hostDir: dir, name: 'x.tar' }, feed, () => Promise.reject(failure)),
    (error: unknown) => error === failure,
  );
  assert.deepEqual(await readdir(dir), []);
});

test('a consumer that fails before the producer opens its end: the producer is not left blocked in open()', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'x.tar');
  const aborted = new Error('interrupted');
  const consume = async (input: Readable) => {
    input.destroy();
    throw aborted;
  };
  // Opens its end only after our side has gone, as a helper container that starts slowly does.
  const produce = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawn('sh', ['-c', 'sleep 0.3; head -c 1000000 /dev/zero > "$1"', 'writer', path], { stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited with ${code}`))));
    });
  await assert.rejects(readFromContainer({ hostDir: dir, name: 'x.tar' }, consume, produce));
  assert.deepEqual(await readdir(dir), []);
});
