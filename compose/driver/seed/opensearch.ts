// Seed indices with explicit (strict) mappings and aliases. Documents come
// from a seeded generator, so the same scale gives the same _id and
// _source on any machine. The indices are deleted and made anew each time.
import type { Client } from '@opensearch-project/opensearch';
import { OperationError } from '../../../src/errors.ts';
import type { StackContext } from '../context.ts';
import { searchClient } from '../services/opensearch.ts';

/** mulberry32: tiny, fast, and identical everywhere; quality is beside the point. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['neuron', 'cortex', 'scan', 'tiff', 'raw', 'calibration', 'séquence', 'probe', 'batch', 'mouse', 'slice', 'retina', 'Zürich', 'Genève'];

interface IndexSpec {
  name: string;
  aliases: string[];
  perScale: number;
  mappings: Record<string, unknown>;
  doc: (i: number, next: () => number) => { id: string; source: Record<string, unknown> };
}

const EPOCH = Date.UTC(2022, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();
const word = (next: () => number) => WORDS[Math.floor(next() * WORDS.length)]!;

export const INDICES: IndexSpec[] = [
  {
    name: 'hoss-metadata-v1',
    aliases: ['hoss-metadata'],
    perScale: 7000,
    mappings: {
      dynamic: 'strict',
      properties: {
        namespace: { type: 'keyword' },
        dataset: { type: 'keyword' },
        key: { type: 'keyword' },
        size: { type: 'long' },
        modified: { type: 'date' },
        tags: { type: 'keyword' },
        description: { type: 'text' },
        checksum: { type: 'keyword', index: false },
      },
    },
    doc: (i, next) => ({
      id: `obj-${String(i).padStart(7, '0')}`,
      source: {
        namespace: `ns-${1 + (i % 5)}`,
        dataset: `dataset-${String(1 + (i % 50)).padStart(5, '0')}`,
        key: `data/${i % 97}/file-${i}.bin`,
        size: Math.floor(next() * 1e9),
        modified: iso(EPOCH + Math.floor(next() * 3e10)),
        tags: [word(next), word(next)],
        description: `${word(next)} ${word(next)} ${word(next)} #${i}`,
        ...(i % 4 === 0 ? {} : { checksum: Math.floor(next() * 2 ** 48).toString(16) }),
      },
    }),
  },
  {
    name: 'hoss-datasets',
    aliases: [],
    perScale: 2000,
    mappings: {
      dynamic: 'strict',
      properties: {
        name: { type: 'keyword' },
        namespace: { type: 'keyword' },
        owner: { type: 'keyword' },
        created: { type: 'date' },
        public: { type: 'boolean' },
        description: { type: 'text' },
        quota: { type: 'long' },
      },
    },
    doc: (i, next) => ({
      id: `ds-${String(i).padStart(6, '0')}`,
      source: {
        name: `dataset-${String(i).padStart(5, '0')}`,
        namespace: `ns-${1 + (i % 5)}`,
        owner: `user${String(i % 37).padStart(4, '0')}`,
        created: iso(EPOCH + i * 3_600_000),
        public: next() < 0.25,
        description: i % 6 === 0 ? null : `${word(next)} data set ${i}`,
        quota: Math.floor(next() * 1e6),
      },
    }),
  },
  {
    name: 'hoss-audit-2022.01',
    aliases: ['hoss-audit'],
    perScale: 1000,
    mappings: {
      dynamic: 'strict',
      properties: {
        at: { type: 'date' },
        user: { type: 'keyword' },
        action: { type: 'keyword' },
        object: { type: 'keyword' },
        ok: { type: 'boolean' },
        bytes: { type: 'long' },
      },
    },
    doc: (i, next) => ({
      id: `audit-${String(i).padStart(6, '0')}`,
      source: {
        at: iso(EPOCH + i * 61_000),
        user: `user${String(Math.floor(next() * 200)).padStart(4, '0')}`,
        action: ['get', 'put', 'delete', 'list'][Math.floor(next() * 4)],
        object: `obj-${String(Math.floor(next() * 7000)).padStart(7, '0')}`,
        ok: next() > 0.05,
        bytes: Math.floor(next() * 1e7),
      },
    }),
  },
];

const BATCH = 2000;

async function bulkLoad(client: Client, spec: IndexSpec, count: number): Promise<void> {
  const next = generator([...spec.name].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
  for (let start = 1; start <= count; start += BATCH) {
    const body: unknown[] = [];
    for (let i = start; i < Math.min(start + BATCH, count + 1); i++) {
      const { id, source } = spec.doc(i, next);
      body.push({ index: { _index: spec.name, _id: id } }, source);
    }
    const response = await client.bulk({ body: body as never });
    const result = response.body as { errors?: boolean; items?: Array<Record<string, { error?: { reason?: string } }>> };
    if (result.errors) {
      const first = result.items?.map((item) => Object.values(item)[0]?.error).find(Boolean);
      throw new OperationError(`bulk load of ${spec.name} failed: ${first?.reason ?? 'unknown error'}`);
    }
  }
}

export async function seedOpenSearch(ctx: StackContext, scale: number): Promise<void> {
  const client = await searchClient(ctx);
  try {
    await client.indices.delete({ index: INDICES.map((s) => s.name).join(','), ignore_unavailable: true } as never);
    for (const spec of INDICES) {
      await client.indices.create({
        index: spec.name,
        body: {
          settings: { number_of_shards: 1, number_of_replicas: 0 },
          mappings: spec.mappings,
          aliases: Object.fromEntries(spec.aliases.map((a) => [a, {}])),
        },
      } as never);
      await bulkLoad(client, spec, spec.perScale * scale);
    }
    await client.indices.refresh({ index: INDICES.map((s) => s.name).join(',') } as never);
  } finally {
    await client.close();
  }
}
