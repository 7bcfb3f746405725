// Runs one hossadm command in this process, through the same command-line
// program the CLI builds (commander, the command's wiring, the core call),
// and keeps what it ended with: its output, or the error the CLI entry would
// turn into an exit code. Thousands of archive cases fit in a test this way;
// a sample goes through the real CLI process as well.
import { buildProgram } from '../../src/cli/program.ts';
import { ArchiveError, ExitCode, HossError } from '../../src/errors.ts';

export type Outcome =
  | { kind: 'ok'; output: string }
  /** A typed error: the CLI prints its one line and exits with its code. */
  | { kind: 'error'; exitCode: number; archive: boolean; message: string }
  /** Anything else: the CLI would exit 1 and print a stack trace. */
  | { kind: 'crash'; message: string };

export async function runInProcess(args: readonly string[], environment: Record<string, string | undefined>, signal: AbortSignal): Promise<Outcome> {
  let output = '';
  const program = buildProgram({ environment, stdinIsTTY: false, signal, write: (text) => (output += text) });
  try {
    await program.parseAsync(['node', 'hossadm', '--quiet', '--json', ...args]);
    return { kind: 'ok', output };
  } catch (error) {
    if (error instanceof HossError && error.exitCode !== ExitCode.internal) {
      return { kind: 'error', exitCode: error.exitCode, archive: error instanceof ArchiveError, message: error.message };
    }
    return { kind: 'crash', message: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) };
  }
}

/** A one-word summary of an outcome, for comparing verify with restore --dry-run. */
export function verdict(outcome: Outcome): string {
  return outcome.kind === 'error' ? `exit ${outcome.exitCode}` : outcome.kind;
}
