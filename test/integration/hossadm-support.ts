// Runs the built hossadm CLI as an operator does: a child process with the
// stack's environment, its exit code, stdout and stderr kept for assertions.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './stack-support.ts';

export const HOSSADM = join(REPO, 'dist', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function hossadm(args: readonly string[], env: Record<string, string>, timeoutMs = 20 * 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HOSSADM, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

export async function hossadmOk(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const run = await hossadm(args, env);
  if (run.code !== 0) throw new Error(`hossadm ${args.join(' ')} exited ${run.code}\n${run.stderr.slice(-4000)}`);
  return run;
}
