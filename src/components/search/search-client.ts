// The search engine's client (OpenSearch or Elasticsearch 7: the same REST
// API; the OpenSearch client sends no product check), pointed at the search container's address on its
// compose network. maxRetries is 0: the client would otherwise re-send a
// timed-out snapshot or restore call, which is not idempotent.
import { OperationError } from '../../errors.ts';
import { findServiceContainer, requireRunning } from '../../docker/compose-services.ts';
import type { SearchContext } from './search-kind.ts';
import { hostFolderMountedAt } from '../mounted-folder.ts';

export interface SearchApi {
  request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, query?: Record<string, string>): Promise<T>;
  close(): Promise<void>;
}

export async function searchContainer(ctx: SearchContext) {
  const container = await findServiceContainer(ctx.docker, ctx.config.project, ctx.search.service);
  requireRunning(container);
  return container;
}

export async function connectSearch(ctx: SearchContext): Promise<SearchApi> {
  const container = await searchContainer(ctx);
  const node = `http://${await ctx.docker.containerAddress(container.id)}:${ctx.search.port}`;
  const given = ctx.connect?.search?.(node);
  // The client is loaded here, not at start: commands that never reach a search engine do not pay for its memory.
  const client = given
    ? { transport: given, close: () => given.close() }
    : new (await import('@opensearch-project/opensearch')).Client({ node, maxRetries: 0, requestTimeout: 30 * 60_000 });
  return {
    async request<T>(method: 'GET' | 'PUT' | 'POST' | 'DELETE', path: string, body?: unknown, query?: Record<string, string>): Promise<T> {
      try {
        const response = await client.transport.request({ method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }), ...(query ? { querystring: query } : {}) });
        return response.body as T;
      } catch (error) {
        const meta = (error as { meta?: { statusCode?: number; body?: { error?: { reason?: string; type?: string } } } }).meta;
        const reason = meta?.body?.error?.reason ?? (error as Error).message;
        throw new OperationError(`${ctx.search.label} ${method} ${path} failed${meta?.statusCode ? ` (HTTP ${meta.statusCode})` : ''}: ${reason}`, { cause: error });
      }
    },
    close: () => client.close(),
  };
}

export async function withSearch<T>(ctx: SearchContext, work: (api: SearchApi) => Promise<T>): Promise<T> {
  const api = await connectSearch(ctx);
  try {
    return await work(api);
  } finally {
    await api.close().catch(() => undefined);
  }
}

export type Flavour = 'opensearch' | 'elasticsearch';

/** Which engine answers, and its version: OpenSearch says so in version.distribution, Elasticsearch does not. */
export async function liveEngine(api: SearchApi): Promise<{ flavour: Flavour; version: string }> {
  const root = await api.request<{ version: { number: string; distribution?: string } }>('GET', '/');
  return { flavour: root.version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch', version: root.version.number };
}

/** User indices: the dot-prefixed ones belong to the engine and its plugins. */
export async function userIndices(api: SearchApi): Promise<string[]> {
  const rows = await api.request<{ index: string }[]>('GET', '/_cat/indices', undefined, { format: 'json', expand_wildcards: 'open,closed', h: 'index' });
  return rows.map((r) => r.index).filter((i) => !i.startsWith('.')).sort();
}

/** Top-level document counts per index (not _cat's Lucene count, which includes nested docs). */
export async function countDocuments(api: SearchApi, indices: string[]): Promise<Record<string, number>> {
  if (indices.length > 0) await api.request('POST', `/${indices.join(',')}/_refresh`);
  const counts: Record<string, number> = {};
  for (const index of indices) {
    counts[index] = (await api.request<{ count: number }>('GET', `/${index}/_count`)).count;
  }
  return counts;
}

export async function pollUntil<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 60 * 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new OperationError(`${what} did not finish within ${Math.round(timeoutMs / 60_000)} minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Host side of the folder the search container uses as its snapshot repository root (path.repo). */
export function repoFolder(ctx: SearchContext, containerId: string): Promise<string> {
  const { service, containerRepoDir } = ctx.search;
  return hostFolderMountedAt(ctx, containerId, service, containerRepoDir,
    `bind-mount a host folder (e.g. "\${BACKUP_ROOT}/.${ctx.search.flavour}:${containerRepoDir}") in the ${service} service's volumes and list path.repo: ["${containerRepoDir}"] in its ${ctx.search.flavour}.yml`);
}
