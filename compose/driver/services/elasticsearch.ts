// Elasticsearch (and OpenSearch) over plain HTTP from the host, for every
// reference stack: 7.10 without the X-Elastic-Product header that newer
// clients demand.
import { OperationError } from '../../../src/errors.ts';

export interface EsResponse<T = unknown> {
  status: number;
  body: T;
}

/** One HTTP call to Elasticsearch; JSON in and out, ndjson for _bulk. */
export async function esRequest<T = unknown>(base: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<EsResponse<T>> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    const ndjson = typeof body === 'string';
    init.body = ndjson ? body : JSON.stringify(body);
    init.headers = { 'Content-Type': ndjson ? 'application/x-ndjson' : 'application/json' };
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Throws with ES's own reason unless the status is one of `ok`. */
export async function es<T = unknown>(base: string, method: string, path: string, body?: unknown, ok: readonly number[] = [200, 201]): Promise<T> {
  const response = await esRequest<T>(base, method, path, body);
  if (!ok.includes(response.status)) {
    const reason = (response.body as { error?: { reason?: string; type?: string } } | null)?.error;
    throw new OperationError(`elasticsearch ${method} ${path} answered ${response.status}${reason ? `: ${reason.type ?? ''} ${reason.reason ?? ''}`.trimEnd() : ''}`);
  }
  return response.body;
}
