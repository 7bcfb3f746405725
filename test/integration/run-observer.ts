// Watches a hossadm run from the outside, the way another user of the host
// could: the argv of every process on this machine (the engine's containers
// are processes of the same kernel, so their commands show up too) and the
// modes of whatever appears in the folders a run writes.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface Observation {
  /** Every distinct argv seen, each as its list of arguments. */
  argvs: string[][];
  /** Path -> permission bits, the first time each path was seen. */
  modes: Map<string, number>;
}

async function processArgvs(seen: Map<string, string[]>): Promise<void> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  await Promise.all(pids.map(async (pid) => {
    const raw = await readFile(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (!raw || raw.length === 0) return;
    const key = raw.toString('utf8');
    if (!seen.has(key)) seen.set(key, key.replace(/\0$/, '').split('\0'));
  }));
}

async function treeModes(root: string, modes: Map<string, number>): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info) return;
  if (!modes.has(root)) modes.set(root, info.mode & 0o7777);
  if (!info.isDirectory()) return;
  const names = await readdir(root).catch(() => [] as string[]);
  await Promise.all(names.map((name) => treeModes(join(root, name), modes)));
}

/** Samples until `stop()`; the paths are walked whole at each sample. */
export function observeRun(paths: readonly string[], intervalMs = 40): { stop(): Promise<Observation> } {
  const argvs = new Map<string, string[]>();
  const modes = new Map<string, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      await processArgvs(argvs);
      for (const path of paths) await treeModes(path, modes);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { argvs: [...argvs.values()], modes };
    },
  };
}
