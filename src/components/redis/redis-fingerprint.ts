// The content of a Redis server as numbers a restore can be proved with: per
// logical database, the key count, how many keys expire, and 48 bits of a
// sha256 over every key in byte order with its type, its value in one
// canonical form and its absolute expiry deadline (PEXPIRETIME, rounded to
// the second), so a key that expires tomorrow must still expire tomorrow.
// Keys are listed with SCAN (never KEYS, which blocks the server). Streams
// count with their entries, ids, consumer groups, consumers and pending
// entries, not with idle times, which move with the clock.
import { createHash, type Hash } from 'node:crypto';
import type { ContentFingerprint } from '../component.ts';
import { asText, type RedisConnection, type Reply } from './resp.ts';

const BATCH = 200;

function put(hash: Hash, value: Reply | string): void {
  if (Array.isArray(value)) {
    hash.update(`*${value.length};`);
    for (const item of value) put(hash, item);
    return;
  }
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value === null ? '(nil)' : String(value));
  hash.update(`$${bytes.length};`);
  hash.update(bytes);
}

const list = (reply: Reply): Reply[] => (Array.isArray(reply) ? reply : []);

/** A flat [name, value, name, value...] reply as a map by name. */
function fields(reply: Reply): Map<string, Reply> {
  const items = list(reply);
  const map = new Map<string, Reply>();
  for (let i = 0; i + 1 < items.length; i += 2) map.set(asText(items[i]!), items[i + 1]!);
  return map;
}

function pick(map: Map<string, Reply>, names: readonly string[]): Reply[] {
  return names.map((n) => map.get(n) ?? null);
}

const byBytes = (a: Buffer, b: Buffer) => Buffer.compare(a, b);

/** Pairs of a flat reply, sorted by their first element's bytes (hash fields). */
function sortedPairs(reply: Reply): Reply[] {
  const items = list(reply) as Buffer[];
  const pairs: [Buffer, Buffer][] = [];
  for (let i = 0; i + 1 < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
  return pairs.sort((a, b) => byBytes(a[0], b[0])).flat();
}

async function streamValue(redis: RedisConnection, key: Buffer): Promise<Reply[]> {
  const entries = await redis.call('XRANGE', key, '-', '+');
  const stream = fields(await redis.call('XINFO', 'STREAM', key));
  const groups: Reply[] = [];
  for (const group of list(await redis.call('XINFO', 'GROUPS', key))) {
    const g = fields(group);
    const name = g.get('name') as Buffer;
    const consumers = list(await redis.call('XINFO', 'CONSUMERS', key, name)).map((c) => pick(fields(c), ['name', 'pending']));
    const pending = list(await redis.call('XPENDING', key, name, '-', '+', 1_000_000_000)).map((p) => {
      const [id, consumer, , deliveries] = list(p);
      return [id ?? null, consumer ?? null, deliveries ?? null];
    });
    groups.push([...pick(g, ['name', 'consumers', 'pending', 'last-delivered-id', 'entries-read']), consumers, pending]);
  }
  return [entries, pick(stream, ['length', 'last-generated-id', 'max-deleted-entry-id', 'entries-added']), groups];
}

async function value(redis: RedisConnection, key: Buffer, type: string): Promise<Reply> {
  switch (type) {
    case 'string':
      return redis.call('GET', key);
    case 'hash':
      return sortedPairs(await redis.call('HGETALL', key));
    case 'list':
      return redis.call('LRANGE', key, 0, -1);
    case 'set':
      return (list(await redis.call('SMEMBERS', key)) as Buffer[]).sort(byBytes);
    case 'zset':
      return redis.call('ZRANGE', key, 0, -1, 'WITHSCORES');
    case 'stream':
      return streamValue(redis, key);
    default:
      // A module's type: its name is all hossadm can compare.
      return null;
  }
}

/** Logical databases that hold keys, from INFO keyspace ("db3:keys=1,expires=0,..."). */
export async function databasesWithKeys(redis: RedisConnection, limit: number): Promise<number[]> {
  const text = asText(await redis.call('INFO', 'keyspace'));
  const dbs = [...text.matchAll(/^db(\d+):keys=(\d+)/gm)].filter((m) => Number(m[2]) > 0).map((m) => Number(m[1]));
  return dbs.filter((db) => db < limit).sort((a, b) => a - b);
}

async function databaseFingerprint(redis: RedisConnection, db: number): Promise<Record<string, number>> {
  await redis.call('SELECT', db);
  const keys: Buffer[] = [];
  let cursor = '0';
  do {
    const [next, batch] = list(await redis.call('SCAN', cursor, 'COUNT', 1000));
    cursor = asText(next ?? null);
    keys.push(...(list(batch ?? null) as Buffer[]));
  } while (cursor !== '0');
  // SCAN may return a key twice while the table is resized.
  const unique = [...new Map(keys.map((k) => [k.toString('hex'), k])).values()].sort(byBytes);
  const hash = createHash('sha256');
  let expiring = 0;
  let present = 0;
  for (let i = 0; i < unique.length; i += BATCH) {
    const batch = unique.slice(i, i + BATCH);
    const described = await Promise.all(batch.map(async (key) => {
      const [type, deadline] = await Promise.all([redis.call('TYPE', key), redis.call('PEXPIRETIME', key)]);
      const name = asText(type);
      return { key, name, deadline: deadline as number, value: name === 'none' ? null : await value(redis, key, name) };
    }));
    for (const d of described) {
      // Gone between SCAN and TYPE: it expired or was deleted, it is not content.
      if (d.name === 'none') continue;
      present++;
      const seconds = d.deadline >= 0 ? Math.round(d.deadline / 1000) : -1;
      if (seconds >= 0) expiring++;
      put(hash, [d.key, Buffer.from(d.name), Buffer.from(String(seconds)), d.value]);
    }
  }
  return { keys: present, expiring, hash: hash.digest().readUIntBE(0, 6) };
}

/** Every logical database with keys, as `db<N>`; empty databases do not appear. */
export async function redisFingerprint(redis: RedisConnection, databases: number): Promise<ContentFingerprint> {
  const fingerprint: ContentFingerprint = {};
  for (const db of await databasesWithKeys(redis, databases)) fingerprint[`db${db}`] = await databaseFingerprint(redis, db);
  await redis.call('SELECT', 0);
  return fingerprint;
}
