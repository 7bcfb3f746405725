// Entry of compose/stack. The only file that touches process: it turns the
// verbs' typed errors into one line on stderr and the exit code of the
// table in src/errors.ts.
import { asHossError } from '../../src/errors.ts';
import { parseInvocation, type StackName } from './cli.ts';
import { docker, RUN_ID } from './runtime.ts';
import { hossStack } from './stacks/hoss.ts';
import { theHiveStack } from './stacks/thehive.ts';
import { wireStack } from './stacks/wire.ts';
import { cyberSiftStack } from './stacks/cybersift.ts';
import { offsiteStack } from './stacks/offsite.ts';
import type { StackModule } from './stacks/types.ts';
import { resolve } from 'node:path';

const MODULES: Record<StackName, StackModule> = { hoss: hossStack, thehive: theHiveStack, cybersift: cyberSiftStack, wire: wireStack, offsite: offsiteStack };

async function run(argv: readonly string[]): Promise<void> {
  const { stack, dir, command } = parseInvocation(argv);
  const module = MODULES[stack];
  const stackDir = dir !== undefined ? resolve(dir) : module.dirFromEnv();
  switch (command.verb) {
    case 'up':
      return module.up(stackDir);
    case 'seed':
      return module.seed(stackDir, command.scale);
    case 'fingerprint': {
      const text = await module.fingerprint(stackDir);
      // process.exit below must not cut a large document short on a pipe.
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
      return;
    }
    case 'reset':
      return module.reset(stackDir);
    case 'down':
      return module.down(stackDir);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

const interrupt = new Promise<never>((_, reject) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => reject(Object.assign(new Error(`interrupted by ${signal}`), { interrupted: true })));
  }
});

try {
  await Promise.race([run(process.argv.slice(2)), interrupt]);
  process.exitCode = 0;
} catch (error) {
  const interrupted = (error as { interrupted?: boolean }).interrupted === true;
  const failure = asHossError(error);
  const exitCode = interrupted ? 130 : failure.exitCode;
  const hint = failure.hint ? ` (${oneLine(failure.hint)})` : '';
  process.stderr.write(`stack: ${oneLine(failure.message)}${hint}\n`);
  if (process.env.HOSS_STACK_DEBUG && failure.details) process.stderr.write(`${failure.details}\n`);
  if (interrupted) await docker.removeHelpers({ runId: RUN_ID }).catch(() => undefined);
  process.exitCode = exitCode;
}
// Open sockets (pg, OpenSearch, CQL keep-alive) must not hold the process.
process.exit(process.exitCode ?? 0);
