// Runs one command's core call with a session and an abort signal, and
// prints its result: text for people, JSON with --json. Errors propagate to
// the entry file, which alone decides the exit code.
import type { Session } from './options.ts';

export interface CommandOutput {
  json: unknown;
  text: string;
}

export type CommandRunner = (work: (session: Session, signal: AbortSignal) => Promise<CommandOutput>) => Promise<void>;
