// Runs the repository's own shell entry points (engine check, image build)
// and turns their failure into one typed error carrying their last line.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EngineError, OperationError, type HossError } from '../../src/errors.ts';
import { REPO_ROOT } from './context.ts';

function runScript(relativePath: string, args: readonly string[], forward: boolean): Promise<{ code: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [join(REPO_ROOT, relativePath), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const take = (chunk: Buffer) => {
      if (forward) process.stderr.write(chunk);
      tail = (tail + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, tail }));
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop() ?? '';
}

async function runOrThrow(relativePath: string, args: readonly string[], forward: boolean, fail: (line: string) => HossError): Promise<void> {
  const { code, tail } = await runScript(relativePath, args, forward);
  if (code !== 0) throw fail(lastLine(tail));
  // Quiet scripts still say what they found, once it went well.
  if (!forward && tail.trim()) process.stderr.write(`${tail.trim()}\n`);
}

/** scripts/engine.sh: reuses a running engine, or starts one on a root Debian host. */
export async function ensureEngine(): Promise<void> {
  await runOrThrow('scripts/engine.sh', [], false, (line) => new EngineError(line.replace(/^engine: /, '') || 'the Docker engine check failed'));
}

/** compose/images/build: the local images, reused when their recipe is unchanged. */
export async function ensureImages(names: readonly string[] = []): Promise<void> {
  await runOrThrow('compose/images/build', names, true, (line) => new OperationError(`building the stack's images failed: ${line.replace(/^images: /, '')}`));
}
