// Runs the built hossadm CLI as an operator does: a child process with the
// stack's environment, its exit code, stdout and stderr kept for assertions.
import { join } from 'node:path';
import { REPO, runChild, type StackRun } from './stack-support.ts';

export const HOSSADM = join(REPO, 'dist', 'cli', 'main.js');

export type CliRun = StackRun;

export function hossadm(args: readonly string[], env: Record<string, string>, timeoutMs = 20 * 60_000): Promise<CliRun> {
  return runChild(process.execPath, [HOSSADM, ...args], env, timeoutMs);
}

export async function hossadmOk(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const run = await hossadm(args, env);
  if (run.code !== 0) throw new Error(`hossadm ${args.join(' ')} exited ${run.code}\n${run.stderr.slice(-4000)}`);
  return run;
}
