// fingerprint of the CyberSift stack: one JSON document, keys sorted.
//
//   redis:         appendonly; per logical database and key: type, absolute
//                  expiry deadline (to the second, "none" without one) and
//                  sha256 of the value in a canonical form (hash fields and
//                  set members sorted; list and sorted-set order kept;
//                  streams with entries, groups, consumers and pending
//                  entries, without idle times)
//   elasticsearch: per user index: docs, sha256 over "_id TAB canonical
//                  _source" sorted by _id
//   models, flows: the folders listed byte for byte by a helper
//   config:        sha256 of .env
//   consistency:   the stand-in's transaction counter against its list
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { asText, type RedisConnection, type Reply } from '../../../src/components/redis/resp.ts';
import { canonicalJson, sha256 } from '../fingerprint/canonical.ts';
import { fileSha256, fingerprintTree } from '../fingerprint/files.ts';
import { es } from '../services/elasticsearch.ts';
import type { CyberSiftContext } from './context.ts';
import { cyberSiftEsBase, withRedis } from './services.ts';

const items = (r: Reply): Reply[] => (Array.isArray(r) ? r : []);
const buf = (r: Reply): Buffer => (Buffer.isBuffer(r) ? r : Buffer.from(r === null ? '' : String(r)));

/** Printable keys as they are, others as hex. */
export function keyName(key: Buffer): string {
  const text = key.toString('utf8');
  return /^[\x21-\x7e]+$/.test(text) ? text : `hex:${key.toString('hex')}`;
}

function digest(parts: Reply): string {
  const hash = createHash('sha256');
  const walk = (r: Reply) => {
    if (Array.isArray(r)) {
      hash.update(`[${r.length}`);
      r.forEach(walk);
      hash.update(']');
    } else {
      const b = buf(r);
      hash.update(`${b.length}:`);
      hash.update(b);
    }
  };
  walk(parts);
  return hash.digest('hex');
}

function byName(flat: Reply): Map<string, Reply> {
  const list = items(flat);
  const map = new Map<string, Reply>();
  for (let i = 0; i + 1 < list.length; i += 2) map.set(asText(list[i]!), list[i + 1]!);
  return map;
}

async function canonical(redis: RedisConnection, key: Buffer, type: string): Promise<Reply> {
  switch (type) {
    case 'string':
      return redis.call('GET', key);
    case 'list':
      return redis.call('LRANGE', key, 0, -1);
    case 'zset':
      return redis.call('ZRANGE', key, 0, -1, 'WITHSCORES');
    case 'set':
      return items(await redis.call('SMEMBERS', key)).map(buf).sort(Buffer.compare);
    case 'hash': {
      const flat = items(await redis.call('HGETALL', key)).map(buf);
      const pairs: Buffer[][] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      return pairs.sort((a, b) => Buffer.compare(a[0]!, b[0]!));
    }
    case 'stream': {
      const groups: Reply[] = [];
      for (const g of items(await redis.call('XINFO', 'GROUPS', key))) {
        const info = byName(g);
        const name = buf(info.get('name') ?? null);
        const consumers = items(await redis.call('XINFO', 'CONSUMERS', key, name)).map((c) => [byName(c).get('name') ?? null, byName(c).get('pending') ?? null]);
        const pending = items(await redis.call('XPENDING', key, name, '-', '+', 100000)).map((p) => [items(p)[0] ?? null, items(p)[1] ?? null, items(p)[3] ?? null]);
        groups.push([name, info.get('last-delivered-id') ?? null, info.get('entries-read') ?? null, info.get('pending') ?? null, consumers, pending]);
      }
      const stream = byName(await redis.call('XINFO', 'STREAM', key));
      return [await redis.call('XRANGE', key, '-', '+'), stream.get('last-generated-id') ?? null, stream.get('max-deleted-entry-id') ?? null, stream.get('entries-added') ?? null, groups];
    }
    default:
      return null;
  }
}

async function redisDocument(redis: RedisConnection): Promise<Record<string, unknown>> {
  const config = items(await redis.call('CONFIG', 'GET', 'appendonly'));
  const document: Record<string, unknown> = { appendonly: asText(config[1] ?? null) };
  const dbs = [...asText(await redis.call('INFO', 'keyspace')).matchAll(/^db(\d+):keys=/gm)].map((m) => Number(m[1]));
  for (const db of dbs) {
    await redis.call('SELECT', db);
    const keys = new Map<string, Buffer>();
    let cursor = '0';
    do {
      const [next, batch] = items(await redis.call('SCAN', cursor, 'COUNT', 1000));
      cursor = asText(next ?? null);
      for (const k of items(batch ?? null).map(buf)) keys.set(k.toString('hex'), k);
    } while (cursor !== '0');
    const entries: Record<string, string> = {};
    for (const key of keys.values()) {
      const type = asText(await redis.call('TYPE', key));
      if (type === 'none') continue;
      const deadline = (await redis.call('PEXPIRETIME', key)) as number;
      entries[keyName(key)] = `${type} ${deadline >= 0 ? new Date(Math.round(deadline / 1000) * 1000).toISOString() : 'none'} ${digest(await canonical(redis, key, type))}`;
    }
    document[`db${db}`] = entries;
  }
  await redis.call('SELECT', 0);
  return document;
}

async function indexDocument(ctx: CyberSiftContext): Promise<Record<string, unknown>> {
  const base = await cyberSiftEsBase(ctx);
  await es(base, 'POST', '/_refresh');
  const indices = (await es<Array<{ index: string }>>(base, 'GET', '/_cat/indices?format=json')).map((i) => i.index).filter((i) => !i.startsWith('.')).sort();
  const out: Record<string, unknown> = {};
  for (const index of indices) {
    const docs: string[] = [];
    let page = await es<{ _scroll_id: string; hits: { hits: Array<{ _id: string; _source: unknown }> } }>(base, 'POST', `/${index}/_search?scroll=1m`, { size: 1000, sort: ['_doc'] });
    while (page.hits.hits.length > 0) {
      for (const hit of page.hits.hits) docs.push(`${hit._id}\t${canonicalJson(hit._source)}`);
      page = await es(base, 'POST', '/_search/scroll', { scroll: '1m', scroll_id: page._scroll_id });
    }
    await es(base, 'DELETE', '/_search/scroll', { scroll_id: page._scroll_id }, [200, 404]);
    docs.sort();
    out[index] = { docs: docs.length, sha256: sha256(docs.join('\n')) };
  }
  return out;
}

/** The stand-in's MULTI writes: a consistent point in time has counter == ticks. */
export interface CyberSiftConsistency {
  counter: number;
  ticks: number;
}

export async function readCyberSiftConsistency(ctx: CyberSiftContext): Promise<CyberSiftConsistency> {
  return withRedis(ctx, async (redis) => ({
    counter: Number(asText(await redis.call('GET', 'cybersift:live:counter')) || 0),
    ticks: (await redis.call('LLEN', 'cybersift:live:ticks')) as number,
  }));
}

export async function computeCyberSiftFingerprint(ctx: CyberSiftContext): Promise<Record<string, unknown>> {
  return {
    redis: await withRedis(ctx, redisDocument),
    elasticsearch: await indexDocument(ctx),
    models: await fingerprintTree(ctx.models),
    flows: await fingerprintTree(ctx.flows),
    config: { '.env': await fileSha256(join(ctx.dir, '.env')) },
  };
}
