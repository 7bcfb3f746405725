// Pings a monitoring webhook in the healthchecks.io style: <url>/start when
// a run starts, <url> on success, <url>/fail on failure, each a POST with a
// small JSON body. A ping that cannot be delivered is the caller's warning,
// never the run's failure: the run's own outcome and exit code stay as they
// are. Such URLs carry their secret in the path or query (a check's UUID, a
// token), so only the scheme and host are ever shown.

export type PingEvent = 'start' | 'success' | 'fail';

export interface PingOptions {
  /** Per attempt; a monitoring endpoint that needs longer is as good as down. */
  timeoutMs: number;
  /** Attempts after the first one. */
  retries: number;
}

export const DEFAULT_PING_OPTIONS: PingOptions = { timeoutMs: 5000, retries: 1 };

/** Accepts only an absolute http(s) URL; undefined otherwise. */
export function parseWebhookUrl(text: string): URL | undefined {
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}

/** "https://hc-ping.com/…": what logs and --json may show of a webhook URL. */
export function redactUrl(url: URL): string {
  const path = url.pathname !== '/' || url.search !== '' ? '/…' : '';
  return `${url.protocol}//${url.host}${path}`;
}

/** <url>/start and <url>/fail next to the check's own path; the query string stays. */
export function pingUrl(base: URL, event: PingEvent): URL {
  const url = new URL(base);
  if (event !== 'success') url.pathname = `${url.pathname.replace(/\/+$/, '')}/${event}`;
  return url;
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return 'no answer in time';
  // fetch's own message says only "fetch failed"; the code (ECONNREFUSED, ENOTFOUND) says why, without the URL.
  return cause?.code ?? (error as Error).message;
}

/** Posts one ping; resolves to undefined when delivered, else to one line saying why not (URL redacted). */
export async function sendPing(base: URL, event: PingEvent, body: object, options: PingOptions = DEFAULT_PING_OPTIONS): Promise<string | undefined> {
  const url = pingUrl(base, event);
  let last = '';
  for (let attempt = 0; attempt <= options.retries; attempt += 1) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) return undefined;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = reason(error);
    }
  }
  return `the ${event} notification to ${redactUrl(base)} was not delivered (${last}, ${options.retries + 1} attempts)`;
}
