// Runs compose/stack the way an operator does (a child process with
// HOSS_DIR and COMPOSE_PROJECT_NAME in its environment) and compares
// fingerprints leaf by leaf, so a test can say exactly which key changed.
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const STACK = join(REPO, 'compose', 'stack');

export interface StackRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runStack(args: readonly string[], env: Record<string, string>, timeoutMs = 20 * 60_000): Promise<StackRun> {
  return runChild(STACK, args, env, timeoutMs);
}

/** Runs a program to its end with extra environment, keeping its exit code and output. */
export function runChild(command: string, args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<StackRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Runs `work` and notes how long it took, in seconds to one decimal, under `name` in `times`, also when it fails. */
export async function timed<T>(times: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    times[name] = Math.round((Date.now() - started) / 100) / 10;
  }
}

/** Fails with the driver's own output, which says what went wrong. */
export async function stackOk(args: readonly string[], env: Record<string, string>): Promise<string> {
  const run = await runStack(args, env);
  if (run.code !== 0) throw new Error(`compose/stack ${args.join(' ')} exited ${run.code}\n${run.stderr.slice(-3000)}`);
  return run.stdout;
}

export async function isolatedStack(label: string): Promise<{ hossDir: string; env: Record<string, string>; project: string }> {
  const root = await mkdtemp(join(tmpdir(), `hoss-${label}-`));
  const project = `t${label.replace(/[^a-z0-9]/g, '')}${process.pid}`;
  const hossDir = join(root, 'hoss');
  return { hossDir, project, env: { HOSS_DIR: hossDir, COMPOSE_PROJECT_NAME: project } };
}

/** Leaves of a JSON document as "a/b/c" -> value; array items are leaves. */
export function leaves(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      for (const [path, leaf] of leaves(child, prefix ? `${prefix}/${key}` : key)) out.set(path, leaf);
    }
  } else {
    out.set(prefix, JSON.stringify(value));
  }
  return out;
}

/** Paths whose value differs, appeared or disappeared between two fingerprints. */
export function changedKeys(before: string, after: string): string[] {
  const a = leaves(JSON.parse(before));
  const b = leaves(JSON.parse(after));
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}
