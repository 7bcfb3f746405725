// Drives the real hossadm CLI in a pseudo-terminal, the way an operator
// meets its questions: the prompt is drawn, keys are typed (Enter, "y",
// Ctrl-C), and the exit code and everything shown on screen come back.
// python3's pty module does the terminal work; Debian's docker-compose
// already depends on python3.
import { join } from 'node:path';
import { HOSSADM } from './hossadm-support.ts';
import { REPO, runChild } from './stack-support.ts';

const DRIVER = join(REPO, 'test', 'integration', 'pty-driver.py');

export interface KeyStep {
  /** A regular expression (Python syntax) the screen must show before the keys are typed. */
  expect: string;
  send: string;
  timeout?: number;
}

export const ENTER = '\r';
export const CTRL_C = '\x03';

export interface TerminalRun {
  code: number | null;
  signal: number | null;
  output: string;
  timedOutAt: number | null;
}

export async function inTerminal(args: readonly string[], steps: readonly KeyStep[], env: Record<string, string>): Promise<TerminalRun> {
  const run = await runChild('python3', [DRIVER, JSON.stringify(steps), process.execPath, HOSSADM, ...args], env, 30 * 60_000);
  if (run.code !== 0) throw new Error(`the terminal driver failed (exit ${run.code}): ${run.stderr.slice(-2000)}`);
  return JSON.parse(run.stdout) as TerminalRun;
}
