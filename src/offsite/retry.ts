// Retries with exponential backoff for calls to a remote target: a
// transient failure (a 5xx, a reset or refused connection, a timeout) is
// tried again after 0.5 s, 1 s, 2 s, ...; anything else (403, 404, a bad
// request) fails at once, since trying again cannot change the answer.

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the second try; doubled before each next one. */
  baseDelayMs: number;
  /** Waits; tests pass one that records instead of sleeping. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called before each wait, for progress. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500 };

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED', 'UND_ERR_SOCKET']);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeTooSkewed', 'SlowDown', 'InternalError', 'ServiceUnavailable', 'ThrottlingException', 'TooManyRequests']);

/** True for failures another try may not meet: server errors, throttling, dropped connections. */
export function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (status === 429) return true;
  if (status !== undefined && status >= 400) return false;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  if (e?.name && TRANSIENT_NAMES.has(e.name)) return true;
  return e?.cause !== undefined && e.cause !== error ? isTransient(e.cause) : false;
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/** Runs `work` until it succeeds, fails for good, or the tries run out (then its last error). */
export async function withRetry<T>(work: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY, signal?: AbortSignal): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (signal?.aborted || attempt >= policy.attempts || !isTransient(error)) throw error;
      const delay = policy.baseDelayMs * 2 ** (attempt - 1);
      policy.onRetry?.(attempt, delay, error);
      await sleep(delay, signal);
    }
  }
}
