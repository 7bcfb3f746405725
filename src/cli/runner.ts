// Runs one command's core call with a session and an abort signal, and
// prints its result: text for people, JSON with --json. Errors propagate to
// the entry file, which alone decides the exit code.
import type { RunFacts } from '../core/run-report.ts';
import type { Reporter } from '../ui/reporter.ts';
import type { GlobalOptions, Session } from './options.ts';

export interface CommandOutput {
  json: unknown;
  text: string;
  /** What the run made (an archive), for the webhook and metrics reports. */
  facts?: RunFacts;
}

export type CommandRunner = (work: (session: Session, signal: AbortSignal) => Promise<CommandOutput>) => Promise<void>;

/** For commands that work before any profile exists (init): the global options and a reporter only. */
export interface BareContext {
  options: GlobalOptions;
  environment: Record<string, string | undefined>;
  reporter: Reporter;
  signal: AbortSignal;
}

export type BareRunner = (work: (context: BareContext) => Promise<CommandOutput>) => Promise<void>;
