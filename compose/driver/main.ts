// Entry of compose/stack. The only file that touches process: it turns the
// verbs' typed errors into one line on stderr and the exit code of the
// table in src/errors.ts.
import { asHossError } from '../../src/errors.ts';
import { parseCommand } from './cli.ts';
import { hossDirFromEnv } from './context.ts';
import { docker, RUN_ID } from './runtime.ts';
import { down } from './verbs/down.ts';
import { fingerprint } from './verbs/fingerprint.ts';
import { reset } from './verbs/reset.ts';
import { seed } from './verbs/seed.ts';
import { up } from './verbs/up.ts';

async function run(argv: readonly string[]): Promise<void> {
  const command = parseCommand(argv);
  const hossDir = hossDirFromEnv();
  switch (command.verb) {
    case 'up':
      return up(hossDir);
    case 'seed':
      return seed(hossDir, command.scale);
    case 'fingerprint': {
      const text = await fingerprint(hossDir);
      // process.exit below must not cut a large document short on a pipe.
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
      return;
    }
    case 'reset':
      return reset(hossDir);
    case 'down':
      return down(hossDir);
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
// Open sockets (pg, OpenSearch keep-alive) must not hold the process.
process.exit(process.exitCode ?? 0);
