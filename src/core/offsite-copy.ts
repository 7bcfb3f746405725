// Copies archives to a target and back. The archive is read twice: once
// for its sha256 (which the target must prove its copy has), once to send
// it, in constant memory. A download lands under its final name only whole.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { openAtomicFile } from '../archive/atomic-file.ts';
import { fileSha256 } from '../archive/file-sha256.ts';
import { ConfigError, HossError, OperationError } from '../errors.ts';
import type { Target } from '../offsite/target.ts';
import type { Reporter } from '../ui/reporter.ts';
import { formatBytes } from './human-units.ts';

export interface CopyResult {
  target: string;
  name: string;
  bytes: number;
  seconds: number;
}

export interface CopyOptions {
  lockDays?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The archive's sha256 when the caller has it already (one checksum for several targets). */
  sha256?: string | undefined;
}

export async function copyArchive(target: Target, path: string, reporter: Reporter, options: CopyOptions = {}): Promise<CopyResult> {
  const name = basename(path);
  const bytes = await stat(path).then(
    (s) => s.size,
    (error: NodeJS.ErrnoException) => {
      throw new ConfigError(`cannot read the archive ${path}: ${error.code ?? error.message}`, { cause: error });
    },
  );
  const started = Date.now();
  const sha256 = options.sha256 ?? (await checksum(path, reporter, options.signal));
  await reporter.step(
    `copy ${name} to ${target.url}`,
    (handle) =>
      target.put(name, createReadStream(path), {
        bytes,
        sha256,
        ...(options.lockDays ? { lockDays: options.lockDays } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (sent) => handle.progress(sent, bytes),
      }),
    () => formatBytes(bytes),
  );
  return { target: target.url, name, bytes, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

function checksum(path: string, reporter: Reporter, signal?: AbortSignal): Promise<string> {
  return reporter.step(`checksum ${basename(path)}`, () => fileSha256(path, signal));
}

/**
 * Copies one archive to every target, each tried even when another failed;
 * an OperationError naming every failure after all were tried.
 */
export async function copyToTargets(targets: readonly Target[], path: string, reporter: Reporter, options: CopyOptions = {}): Promise<CopyResult[]> {
  const done: CopyResult[] = [];
  const failed: string[] = [];
  let sha256 = options.sha256;
  for (const target of targets) {
    try {
      // The archive is read once for its checksum, whatever the number of targets.
      if (targets.length > 1) sha256 ??= await checksum(path, reporter, options.signal);
      done.push(await copyArchive(target, path, reporter, { ...options, sha256 }));
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const message = (error as Error).message;
      reporter.warn(message);
      failed.push(message);
    }
  }
  if (failed.length > 0) {
    throw new OperationError(`the archive ${path} was written but ${failed.length === 1 ? 'its copy' : `${failed.length} copies`} failed: ${failed.join('; ')}`, {
      hint: `the local archive is kept; hossadm copy ${path} <target> tries again`,
    });
  }
  return done;
}

/** The archive `name` from the target into `folder`, under its own name once every byte arrived. */
export async function downloadArchive(target: Target, name: string, folder: string, reporter: Reporter, signal?: AbortSignal): Promise<string> {
  const finalPath = join(folder, name);
  const file = await openAtomicFile(finalPath, { overwrite: true });
  try {
    await reporter.step(`download ${name} from ${target.url}`, async (handle) => {
      const body = await target.get(name, signal);
      let received = 0;
      // Written through the handle itself: a stream made on it would keep the handle from closing.
      await pipeline(
        body,
        async (source: AsyncIterable<Buffer>) => {
          for await (const chunk of source) {
            await file.handle.write(chunk);
            handle.progress((received += chunk.length));
          }
        },
        signal ? { signal } : {},
      );
    });
    await file.commit();
  } catch (error) {
    await file.discard();
    if (error instanceof HossError) throw error;
    throw new OperationError(`cannot download ${name} from ${target.url}: ${(error as Error).message}`, { cause: error });
  }
  return finalPath;
}
