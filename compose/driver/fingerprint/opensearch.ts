// OpenSearch compared logically: documents, mappings and aliases, not the
// Lucene segment files (merges rewrite those at any time, and a snapshot
// restore writes new ones). System indices (".name") belong to the engine.
import type { Client } from '@opensearch-project/opensearch';
import type { StackContext } from '../context.ts';
import { searchClient } from '../services/opensearch.ts';
import { byCodeUnit, canonicalJson, sha256 } from './canonical.ts';

export interface IndexFingerprint {
  status: string;
  docs: number;
  /** Over "_id TAB sha256(canonical _source)" lines in _id order. */
  sha256: string;
  mapping: string;
  aliases: string[];
  shards: string;
  replicas: string;
}

const PAGE = 2000;

async function documentsDigest(client: Client, index: string): Promise<{ docs: number; sha256: string }> {
  const lines: string[] = [];
  let response = await client.search({ index, scroll: '2m', size: PAGE, body: { sort: ['_doc'], query: { match_all: {} } } } as never);
  let scrollId: string | undefined;
  try {
    for (;;) {
      const body = response.body as { _scroll_id?: string; hits: { hits: Array<{ _id: string; _source?: unknown }> } };
      scrollId = body._scroll_id ?? scrollId;
      for (const hit of body.hits.hits) lines.push(`${hit._id}\t${sha256(canonicalJson(hit._source ?? null))}`);
      if (body.hits.hits.length < PAGE || !scrollId) break;
      response = await client.scroll({ scroll_id: scrollId, scroll: '2m' } as never);
    }
  } finally {
    if (scrollId) await client.clearScroll({ scroll_id: scrollId } as never).catch(() => undefined);
  }
  lines.sort(byCodeUnit);
  return { docs: lines.length, sha256: sha256(lines.map((l) => `${l}\n`).join('')) };
}

export async function fingerprintOpenSearch(ctx: StackContext): Promise<Record<string, IndexFingerprint>> {
  const client = await searchClient(ctx);
  try {
    const cat = await client.cat.indices({ format: 'json', h: 'index,status', expand_wildcards: 'open,closed' } as never);
    const indices = (cat.body as Array<{ index: string; status: string }>).filter((i) => !i.index.startsWith('.'));
    const open = indices.filter((i) => i.status === 'open').map((i) => i.index);
    // Writes become visible to search on refresh; fingerprint what was written.
    if (open.length > 0) await client.indices.refresh({ index: open.join(',') } as never);
    const result: Record<string, IndexFingerprint> = {};
    for (const { index, status } of indices.sort((a, b) => byCodeUnit(a.index, b.index))) {
      const mapping = (await client.indices.getMapping({ index } as never)).body as Record<string, { mappings: unknown }>;
      const aliases = (await client.indices.getAlias({ index } as never)).body as Record<string, { aliases: Record<string, unknown> }>;
      const settings = (await client.indices.getSettings({ index } as never)).body as Record<string, { settings: { index: Record<string, string> } }>;
      const docs = status === 'open' ? await documentsDigest(client, index) : { docs: -1, sha256: 'closed' };
      const aliasDefs = aliases[index]?.aliases ?? {};
      result[index] = {
        status,
        ...docs,
        mapping: sha256(canonicalJson(mapping[index]?.mappings ?? {})),
        aliases: Object.keys(aliasDefs)
          .sort(byCodeUnit)
          .map((name) => {
            const def = aliasDefs[name] as Record<string, unknown>;
            return Object.keys(def).length > 0 ? `${name} ${canonicalJson(def)}` : name;
          }),
        shards: settings[index]?.settings.index.number_of_shards ?? '?',
        replicas: settings[index]?.settings.index.number_of_replicas ?? '?',
      };
    }
    return result;
  } finally {
    await client.close();
  }
}
