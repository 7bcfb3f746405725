// One shape for cancellation: whatever the caller aborted with, if it is an
// Error (the CLI aborts with an InterruptedError), otherwise an InterruptedError.

import { InterruptedError } from '../errors.ts';

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason;
  return new InterruptedError('interrupted', { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The error to report for a failed stream operation: the abort reason wins over the AbortError it caused. */
export function preferAbort(error: unknown, signal: AbortSignal | undefined): unknown {
  return signal?.aborted ? abortError(signal) : error;
}
