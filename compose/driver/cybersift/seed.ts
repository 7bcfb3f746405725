// The seeded content of the CyberSift stack: a pure function of the scale
// (expiry deadlines excepted: they are days after the seed, as a cache's
// are). Redis gets every data type the kind must carry: binary strings and
// binary key names, hashes, lists (the Beats event queue), sets (integer
// and text), sorted sets with negative, fractional and infinite scores, a
// stream with two consumer groups, pending and acknowledged entries and a
// deleted entry, a HyperLogLog, keys in databases 0, 1, 3 and 15, with and
// without expiry. Elasticsearch gets N x 200 events; the models and NiFi
// flow folders get binary weights, JSON and nested folders.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { OperationError } from '../../../src/errors.ts';
import type { RedisConnection } from '../../../src/components/redis/resp.ts';
import { runHelperScript, say } from '../runtime.ts';
import { seedStep } from '../seed/step.ts';
import { generator } from '../thehive/data.ts';
import { es } from '../services/elasticsearch.ts';
import { CYBERSIFT_OWNER, EVENTS_INDEX, type CyberSiftContext } from './context.ts';
import { cyberSiftEsBase, withRedis } from './services.ts';

const DAY_MS = 86_400_000;

function bytes(next: () => number, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** A deadline `days` (and a few hours) after now, to the millisecond. */
const inDays = (days: number, next: () => number) => Date.now() + days * DAY_MS + Math.floor(next() * 6 * 3_600_000);

async function seedRedis(redis: RedisConnection, scale: number): Promise<number> {
  const next = generator('cybersift-redis');
  const calls: Promise<unknown>[] = [];
  const call = (...args: (string | Buffer | number)[]) => calls.push(redis.call(...args));
  await redis.call('FLUSHALL');
  await redis.call('SELECT', 0);
  for (let i = 0; i < 20 * scale; i++) {
    call('SET', `cybersift:model:${i}:weights`, bytes(next, 16 + Math.floor(next() * 2000)));
    const result = `cybersift:result:${i}`;
    call('HSET', result, 'score', (next() * 100).toFixed(3), 'model', `model-${i % 7}`, Buffer.from([0xff, 0x00, 0x41]), bytes(next, 12), 'note', 'détection «anomalie» ✓');
    if (i % 3 === 0) call('PEXPIREAT', result, inDays(3 + (i % 7), next));
  }
  for (let i = 0; i < 100 * scale; i++) call('RPUSH', 'cybersift_events', JSON.stringify({ es_id: `evt-${i}`, host: `srv-${i % 13}`, bytes: Math.floor(next() * 1e6) }));
  // A long list and a big hash leave the small (listpack) encodings.
  for (let i = 0; i < 600 * scale; i++) call('RPUSH', 'cybersift:history', `h${i}`);
  for (let i = 0; i < 300 * scale; i++) call('HSET', 'cybersift:ip-reputation', `198.51.${i >> 8}.${i & 255}`, (next() * 10).toFixed(2));
  call('SADD', 'cybersift:ports', 22, 80, 443, 8080, 6379, 9200);
  call('SADD', 'cybersift:tags', 'phishing', 'c2', 'tlp:amber', '', 'émoji 🚨', Buffer.from([0, 1, 2, 255]));
  for (let i = 0; i < 200 * scale; i++) call('SADD', 'cybersift:seen-hosts', `host-${i}.example.org`);
  const scores: string[] = ['-inf', '+inf', '0', '-12.5', '3.14159', '1e-7'];
  for (let i = 0; i < 50 * scale; i++) call('ZADD', 'cybersift:anomaly-scores', i < scores.length ? scores[i]! : (next() * 200 - 100).toFixed(4), `entity-${i}`);
  call('SET', Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x62, 0x69, 0x6e]), bytes(next, 64));
  call('SET', 'cybersift:expiring-weights', bytes(next, 256));
  call('PEXPIREAT', 'cybersift:expiring-weights', inDays(9, next));
  for (let i = 0; i < 30 * scale; i++) call('XADD', 'cybersift:alerts', `1700000000000-${i + 1}`, 'rule', `R${i % 11}`, 'severity', String(i % 5), 'raw', bytes(next, 24));
  call('XDEL', 'cybersift:alerts', '1700000000000-2');
  call('XGROUP', 'CREATE', 'cybersift:alerts', 'analysts', '0');
  call('XGROUP', 'CREATE', 'cybersift:alerts', 'enrichment', '1700000000000-10');
  await Promise.all(calls.splice(0));
  await redis.call('XREADGROUP', 'GROUP', 'analysts', 'alice', 'COUNT', 10, 'STREAMS', 'cybersift:alerts', '>');
  await redis.call('XREADGROUP', 'GROUP', 'analysts', 'bob', 'COUNT', 5, 'STREAMS', 'cybersift:alerts', '>');
  await redis.call('XACK', 'cybersift:alerts', 'analysts', '1700000000000-1', '1700000000000-3', '1700000000000-4');
  await redis.call('XREADGROUP', 'GROUP', 'enrichment', 'worker-1', 'COUNT', 3, 'STREAMS', 'cybersift:alerts', '>');
  await redis.call('XGROUP', 'CREATECONSUMER', 'cybersift:alerts', 'enrichment', 'idle-worker');

  await redis.call('SELECT', 1);
  for (let i = 0; i < 40 * scale; i++) {
    call('SET', `session:${i}`, bytes(next, 32));
    if (i % 4 !== 3) call('PEXPIREAT', `session:${i}`, inDays(1 + (i % 10), next));
  }
  await redis.call('SELECT', 3);
  call('PFADD', 'pf:visitors', ...Array.from({ length: 100 }, (_, i) => `visitor-${i}`));
  call('SET', 'counter:events', 100 * scale);
  await redis.call('SELECT', 15);
  call('SET', 'cybersift:schema-version', '3');
  await Promise.all(calls.splice(0));
  await redis.call('SELECT', 0);
  let keys = 0;
  for (const db of [0, 1, 3, 15]) {
    await redis.call('SELECT', db);
    keys += (await redis.call('DBSIZE')) as number;
  }
  await redis.call('SELECT', 0);
  return keys;
}

async function seedIndex(ctx: CyberSiftContext, scale: number): Promise<void> {
  const base = await cyberSiftEsBase(ctx);
  const next = generator('cybersift-events');
  await es(base, 'DELETE', `/${EVENTS_INDEX}`, undefined, [200, 404]);
  await es(base, 'PUT', `/${EVENTS_INDEX}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: { properties: { host: { type: 'keyword' }, at: { type: 'date' }, bytes: { type: 'long' }, message: { type: 'text' } } },
  });
  const lines: string[] = [];
  for (let i = 0; i < 200 * scale; i++) {
    lines.push(JSON.stringify({ index: { _index: EVENTS_INDEX, _id: `evt-${i}` } }));
    lines.push(JSON.stringify({ host: `srv-${i % 13}`, at: new Date(Date.UTC(2024, 0, 1) + i * 61_000).toISOString(), bytes: Math.floor(next() * 1e6), message: `connexion ${i} «${i % 3 ? 'ok' : 'refusée'}»` }));
  }
  for (let i = 0; i < lines.length; i += 2000) {
    const body = await es<{ errors: boolean }>(base, 'POST', '/_bulk', `${lines.slice(i, i + 2000).join('\n')}\n`);
    if (body.errors) throw new OperationError(`bulk indexing into ${EVENTS_INDEX} failed`);
  }
  await es(base, 'POST', `/${EVENTS_INDEX}/_refresh`);
}

/** Replaces a bind-mounted folder's content with files made here, owned as the stand-in's writes are. */
async function replaceFolder(target: string, files: Map<string, Buffer>, purpose: string): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'cybersift-seed-'));
  try {
    for (const [path, content] of files) {
      await mkdir(dirname(join(scratch, path)), { recursive: true });
      await writeFile(join(scratch, path), content);
    }
    await mkdir(join(scratch, 'empty-folder'), { recursive: true });
    await runHelperScript({
      script: ['set -e', 'find /target -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +', 'cp -R /seed/. /target/', 'chown -R "$1" /target',
        'find /target -type d -exec chmod 755 {} +', 'find /target -type f -exec chmod 644 {} +'].join('\n'),
      args: [CYBERSIFT_OWNER],
      mounts: [{ source: scratch, target: '/seed', readOnly: true }, { source: target, target: '/target' }],
      purpose,
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function modelFiles(scale: number): Map<string, Buffer> {
  const next = generator('cybersift-models');
  const files = new Map<string, Buffer>();
  for (let i = 0; i < 5 * scale; i++) {
    files.set(`anomaly/model-${i}/weights.bin`, bytes(next, 1024 + Math.floor(next() * 20000)));
    files.set(`anomaly/model-${i}/hyperparameters.json`, Buffer.from(JSON.stringify({ learning_rate: 0.001 * (i + 1), layers: [64, 32, i % 5 + 1], name: `modèle ${i}` })));
  }
  files.set('classifier/vocabulary.txt', Buffer.from(Array.from({ length: 200 }, (_, i) => `token-${i}`).join('\n')));
  return files;
}

function flowFiles(): Map<string, Buffer> {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><flowController><rootGroup><processor><name>GetRedisList</name><property name="key">cybersift_events</property></processor><processor><name>PutElasticsearchHttp</name><property name="Identifier Attribute">es_id</property></processor></rootGroup></flowController>`;
  return new Map([
    ['flow.xml.gz', gzipSync(Buffer.from(xml), { level: 9 })],
    ['flow.json', Buffer.from(JSON.stringify({ processors: ['GetRedisList', 'PutElasticsearchHttp'] }))],
    ['archive/2024-01-01_flow.xml.gz', gzipSync(Buffer.from(xml.replace('es_id', 'id')))],
  ]);
}

export async function seedCyberSift(ctx: CyberSiftContext, scale: number): Promise<void> {
  await seedStep('models', () => replaceFolder(ctx.models, modelFiles(scale), 'seed cybersift models'));
  await seedStep('nifi flows', () => replaceFolder(ctx.flows, flowFiles(), 'seed cybersift flows'));
  await seedStep('redis', async () => say(`${await withRedis(ctx, (redis) => seedRedis(redis, scale))} keys in redis`));
  await seedStep('elasticsearch', () => seedIndex(ctx, scale));
}
