// Throughput of the archive layer on one large input (e.g. the first 1 GB of
// a tar of /usr/lib): member staging (read, sha256, compress, write) for each
// compressor setting, the command-line tools on the same input for
// comparison, then assembly and full verification of the archive.
// Usage: sh scripts/node24.sh node bench/archive-compression.ts FILE [zstd|gzip]

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { writeArchive } from '../src/archive/archive-writer.ts';
import type { CompressorOptions } from '../src/archive/codec.ts';
import { stageMember } from '../src/archive/member-writer.ts';
import { zstdParams } from '../src/archive/parallel-compressor.ts';
import { verifyArchive } from '../src/archive/verify-archive.ts';

const [file, only] = process.argv.slice(2);
if (!file) throw new Error('usage: archive-compression.ts FILE [zstd|gzip]');
const { size } = await stat(file);
const dir = await mkdtemp(join(tmpdir(), 'hossadm-bench-'));
const mb = (bytes: number) => (bytes / 1e6).toFixed(0);

// The machine is shared: each figure is the best of a few runs, with the CPU
// seconds (user + system, all threads) that run used.
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);

interface Timing {
  seconds: number;
  cpu: number;
}

function report(label: string, timing: Timing, extra = ''): void {
  const { seconds, cpu } = timing;
  console.log(`${label.padEnd(40)} ${seconds.toFixed(2).padStart(6)} s ${mb(size / seconds).padStart(5)} MB/s  cpu ${cpu.toFixed(2)} s ${extra}`);
}

async function best<T>(work: () => Promise<{ cpu?: number; value: T }>): Promise<{ timing: Timing; value: T }> {
  let result: { timing: Timing; value: T } | undefined;
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const { cpu, value } = await work();
    const used = process.cpuUsage(cpuBefore);
    const timing = { seconds: (performance.now() - started) / 1000, cpu: cpu ?? (used.user + used.system) / 1e6 };
    if (!result || timing.seconds < result.timing.seconds) result = { timing, value };
  }
  return result!;
}

async function tool(label: string, command: string, args: string[]): Promise<void> {
  const { timing } = await best(async () => {
    // /usr/bin/time reports the child's CPU seconds on stderr.
    const cpu = await new Promise<number>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', '%U %S', command, ...args, '-c', file!], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(createWriteStream('/dev/null'));
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => {
        const [user = 0, system = 0] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
        return code === 0 ? resolve(user + system) : reject(new Error(`${command} exited ${code}: ${stderr}`));
      });
    });
    return { cpu, value: undefined };
  });
  report(label, timing);
}

/** The bare node:zlib engine, compress only (no hash, no file written), at a given output chunk size. */
async function engineOnly(label: string, codec: 'zstd' | 'gzip', chunkSize: number | undefined): Promise<void> {
  const { timing } = await best(async () => {
    const options = chunkSize ? { chunkSize } : {};
    const engine = codec === 'zstd' ? zlib.createZstdCompress({ ...options, params: zstdParams(3) }) : zlib.createGzip({ ...options, level: 6 });
    await pipeline(createReadStream(file!, { highWaterMark: 1024 * 1024 }), engine, new Writable({ write: (_c, _e, done) => done() }));
    return { value: undefined };
  });
  report(label, timing);
}

async function stage(label: string, codec: 'zstd' | 'gzip', options: CompressorOptions): Promise<{ path: string; size: number; sha256: string }> {
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const path = join(dir, `${codec}.staged`);
  const { timing, value } = await best(async () => ({
    value: await stageMember(createReadStream(file!, { highWaterMark: 1024 * 1024 }), path, codec, undefined, options),
  }));
  clearInterval(timer);
  report(label, timing, `-> ${mb(value.storedSize)} MB, peak rss ${mb(peakRss)} MB`);
  return { path, size: value.size, sha256: value.sha256 };
}

console.log(`input ${mb(size)} MB, load average ${loadavg().map((n) => n.toFixed(1)).join(' ')}`);
for (const codec of ['zstd', 'gzip'] as const) {
  if (only && only !== codec) continue;
  const level = codec === 'zstd' ? '-3' : '-6';
  if (codec === 'zstd') {
    await tool('zstd CLI -3 -T1', 'zstd', [level, '-T1', '-q']);
    await tool('zstd CLI -3 -T2', 'zstd', [level, '-T2', '-q']);
  } else {
    await tool('gzip CLI -6', 'gzip', [level]);
  }
  await engineOnly(`${codec} node engine, 16 KiB chunks (default)`, codec, undefined);
  await engineOnly(`${codec} node engine, 256 KiB chunks`, codec, 256 * 1024);
  await stage(`${codec} stageMember, 1 thread`, codec, { threads: 1 });
  for (const frameMiB of [2, 8]) await stage(`${codec} stageMember, 2 lanes, ${frameMiB} MiB frames`, codec, { threads: 2, frameSize: frameMiB * 2 ** 20 });
  const staged = await stage(`${codec} stageMember, defaults (2 lanes, 4 MiB)`, codec, {});


  const members = [{ name: 'volumes/bench.tar', stagedPath: staged.path, size: staged.size, sha256: staged.sha256 }];
  const manifest = { formatVersion: 1, members: [{ name: 'volumes/bench.tar', size: staged.size, sha256: staged.sha256 }] };
  const finalPath = join(dir, `bench.tar.${codec}`);
  const written = await best(async () => ({
    value: await writeArchive({ finalPath, codec, manifest, members, mtime: new Date(), overwrite: true }),
  }));
  report(`${codec} writeArchive (copy)`, written.timing, `-> ${mb(written.value.bytes)} MB`);
  const verified = await best(async () => ({ value: await verifyArchive(finalPath) }));
  report(`${codec} verifyArchive`, verified.timing);
  await rm(finalPath);
}
await rm(dir, { recursive: true, force: true });
