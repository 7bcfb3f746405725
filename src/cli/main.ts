// The only file that touches the process: arguments, signals, output
// streams and the exit code. Everything else receives what it needs.
import { resolve } from 'node:path';
import { enableMemoryPacing } from '../archive/memory-pacer.ts';
import { buildProgram, CommanderError } from './program.ts';
import { asHossError, ExitCode, InterruptedError } from '../errors.ts';

// Streams collect their spent buffers every 64 MiB instead of when V8 gets to it (memory-pacer.ts).
enableMemoryPacing();

const controller = new AbortController();
let interrupts = 0;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    process.stderr.write(`\nhossadm: ${signal} received, stopping and cleaning up (again to quit at once)\n`);
    controller.abort(new InterruptedError(`interrupted by ${signal}`));
  });
}

const program = buildProgram({
  environment: process.env,
  stdinIsTTY: Boolean(process.stdin.isTTY),
  signal: controller.signal,
  write: (text) => process.stdout.write(text),
  running: { execPath: process.execPath, scriptPath: resolve(process.argv[1] ?? 'hossadm') },
});

try {
  await program.parseAsync(process.argv);
  process.exitCode = ExitCode.ok;
} catch (thrown) {
  if (thrown instanceof CommanderError) {
    process.exitCode = thrown.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  } else {
    // The engines say what state an interruption left; anything else that
    // surfaces after a signal is still reported as the interruption it is.
    const error =
      controller.signal.aborted && !(thrown instanceof InterruptedError)
        ? new InterruptedError('interrupted', { details: thrown instanceof Error ? thrown.message : String(thrown) })
        : asHossError(thrown);
    // One line an operator can act on; a failed command's own output follows, indented.
    if (!error.reported) process.stderr.write(`hossadm: ${error.message}${error.hint ? ` (fix: ${error.hint})` : ''}\n`);
    if (error.details) process.stderr.write(`${error.details.replace(/^/gm, '  | ')}\n`);
    if (error.exitCode === ExitCode.internal && error.cause instanceof Error && error.cause.stack) process.stderr.write(`${error.cause.stack}\n`);
    process.exitCode = error.exitCode;
  }
}
