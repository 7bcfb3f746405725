// Throughput of member staging (read, sha256, compress, write) for each
// compressor setting, on a file given as argument (e.g. 1 GB of a tar of /usr/lib).
// Usage: sh scripts/node24.sh node bench/archive-compression.ts FILE [zstd|gzip]

import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { stageMember } from '../src/archive/member-writer.ts';
import { zstdParams } from '../src/archive/parallel-compressor.ts';
import type { CompressorOptions } from '../src/archive/codec.ts';

const [file, only] = process.argv.slice(2);
if (!file) throw new Error('usage: archive-compression.ts FILE [zstd|gzip]');
const { size } = await stat(file);
const dir = await mkdtemp(join(tmpdir(), 'hossadm-bench-'));
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

async function run(label: string, codec: 'zstd' | 'gzip', options: CompressorOptions): Promise<void> {
  const started = performance.now();
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const result = await stageMember(createReadStream(file!, { highWaterMark: 1024 * 1024 }), join(dir, 'm'), codec, undefined, options);
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${label.padEnd(34)} ${seconds.toFixed(2)} s  ${mb(size / seconds)} MB/s  -> ${mb(result.storedSize)} MB  peak rss ${mb(peakRss)} MB`);
}

// Node's default engine settings, for comparison (16 KiB output chunks).
async function runDefault(codec: 'zstd' | 'gzip'): Promise<void> {
  const started = performance.now();
  const engine = codec === 'zstd' ? zlib.createZstdCompress({ params: zstdParams(3) }) : zlib.createGzip({ level: 6 });
  let out = 0;
  const sink = new Transform({ transform: (c: Buffer, _e, cb) => ((out += c.length), cb()) });
  const { pipeline } = await import('node:stream/promises');
  await pipeline(createReadStream(file!), engine, sink);
  const seconds = (performance.now() - started) / 1000;
  console.log(`${(codec + ' node defaults, no hash/write').padEnd(34)} ${seconds.toFixed(2)} s  ${mb(size / seconds)} MB/s  -> ${mb(out)} MB`);
}

for (const codec of ['zstd', 'gzip'] as const) {
  if (only && only !== codec) continue;
  await runDefault(codec);
  await run(`${codec} 1 thread (256 KiB chunks)`, codec, { threads: 1 });
  for (const frameSize of [2, 4, 8]) {
    await run(`${codec} 2 threads, ${frameSize} MiB frames`, codec, { threads: 2, frameSize: frameSize * 1024 * 1024 });
  }
  await run(`${codec} 4 threads, 4 MiB frames`, codec, { threads: 4, frameSize: 4 * 1024 * 1024 });
}
await rm(dir, { recursive: true, force: true });
