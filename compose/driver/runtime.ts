// Process-wide pieces every verb shares: the engine client, the id that
// labels this run's helper containers, the helper image and progress output.
import { EngineClient } from '../../src/docker/client.ts';
import { OperationError } from '../../src/errors.ts';

export const docker = new EngineClient();

export const RUN_ID = `stack-${process.pid}-${Date.now().toString(36)}`;

/** Progress and waits go to stderr; stdout carries only results (the fingerprint). */
export function say(message: string): void {
  process.stderr.write(`stack: ${message}\n`);
}

let helper: string | undefined;

/**
 * The busybox image helper containers run: HOSS_HELPER_IMAGE when set, else
 * the locally built one, else upstream busybox (which needs a registry).
 */
export async function helperImage(): Promise<string> {
  if (helper) return helper;
  const wanted = process.env.HOSS_HELPER_IMAGE;
  if (wanted) helper = wanted;
  else helper = (await docker.imageExists('hoss-local/busybox:local')) ? 'hoss-local/busybox:local' : 'busybox:latest';
  return helper;
}

export interface HelperCall {
  script: string;
  args?: readonly string[];
  mounts: ReadonlyArray<{ source: string; target: string; readOnly?: boolean }>;
  purpose: string;
  env?: Record<string, string>;
}

/** Runs a shell script as root in a helper container; every variable part arrives as $1.. or env. */
export async function runHelperScript(call: HelperCall): Promise<string> {
  const result = await docker.runHelper({
    image: await helperImage(),
    argv: ['sh', '-c', call.script, 'helper', ...(call.args ?? [])],
    mounts: call.mounts,
    purpose: call.purpose,
    runId: RUN_ID,
    ...(call.env ? { env: call.env } : {}),
  });
  if (result.exitCode !== 0) {
    throw new OperationError(`helper "${call.purpose}" failed (exit ${result.exitCode}): ${result.stderr.trim().split('\n').pop() ?? ''}`, {
      details: result.stderr.trim(),
    });
  }
  return result.stdout;
}
