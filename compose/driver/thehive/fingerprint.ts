// fingerprint of the TheHive stack: one JSON document, keys sorted.
//
//   cassandra:     keyspaces (replication, per table: rows, sha256 over the
//                  rows read page by page in token order, columns, options)
//                  and roles (login/superuser flags; no hashes or salts)
//   elasticsearch: per user index: docs, sha256 over "_id TAB
//                  sha256(canonical _source)" sorted by _id, mapping,
//                  settings minus uuid/creation_date/provided_name/version,
//                  aliases; user templates
//   files:         the attachment folder listed byte for byte by a helper
//   config:        sha256 of every config file of the stack folder (.env incl.)
//   consistency:   cases vs. documents vs. files; all zero on a quiet stack
//
// Cassandra and Elasticsearch are compared through the engine, never by
// their files (compaction, merges and a restore lay those out anew). TTLs
// count down, so a row shows whether a column has one, not its value.
// Read order: Elasticsearch, then Cassandra, then the files, the reverse of
// TheHive's write order (file, row, document), so a stack that is being
// written to still shows no document without a row and no row without a file.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { listTree, type TreeEntry } from '../../../src/docker/tree-digest.ts';
import { byCodeUnit, canonicalJson, sha256 } from '../fingerprint/canonical.ts';
import { hashFilesExcept, treeFingerprint, type TreeFingerprint } from '../fingerprint/files.ts';
import { docker, helperImage, RUN_ID } from '../runtime.ts';
import type { TheHiveContext } from './context.ts';
import { es, esBase, esRequest, withCql } from './services.ts';

const PAGE = 1000;

/** One spelling per CQL value, whatever the driver returns. */
export function canonicalValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return `0x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof cassandra.types.Tuple) return { tuple: value.elements.map(canonicalValue) };
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(canonicalValue(k)), canonicalValue(v)]));
  const name = (value as object).constructor?.name;
  if (name === 'Object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, canonicalValue(v)]));
  // Uuid, TimeUuid, Long, Integer, BigDecimal, InetAddress, LocalDate, LocalTime, Duration
  return String(value);
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  kind: string;
  position: number;
  type: string;
  clustering_order: string;
}

const KIND_ORDER: Record<string, number> = { partition_key: 0, clustering: 1, static: 2, regular: 3 };

export interface CassandraTableFingerprint {
  rows: number;
  sha256: string;
  columns: string[];
  options: Record<string, unknown>;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Rows in token order, page by page; `each` sees every row (the consistency check's cases). */
async function tableDigest(client: cassandra.Client, ks: string, table: string, columns: ColumnRow[], each?: (row: cassandra.types.Row) => void): Promise<{ rows: number; sha256: string }> {
  const ttlColumns = columns.filter((c) => c.kind === 'regular' && !c.type.includes('<') && c.type !== 'counter').map((c) => c.column_name);
  const selectors = [...columns.map((c) => quote(c.column_name)), ...ttlColumns.map((c) => `TTL(${quote(c)}) AS ${quote(`ttl(${c})`)}`)];
  const hash = createHash('sha256');
  let rows = 0;
  let pageState: string | undefined;
  do {
    const result = await client.execute(`SELECT ${selectors.join(', ')} FROM ${quote(ks)}.${quote(table)}`, [], {
      prepare: true,
      fetchSize: PAGE,
      ...(pageState ? { pageState } : {}),
    });
    for (const row of result.rows) {
      const record: Record<string, unknown> = {};
      for (const c of columns) record[c.column_name] = canonicalValue(row.get(c.column_name));
      for (const c of ttlColumns) record[`ttl(${c})`] = row.get(`ttl(${c})`) === null ? null : 'set';
      hash.update(`${canonicalJson(record)}\n`);
      rows++;
      each?.(row);
    }
    pageState = result.pageState ?? undefined;
  } while (pageState);
  return { rows, sha256: hash.digest('hex') };
}

export interface CassandraFingerprint {
  keyspaces: Record<string, { replication: Record<string, string>; tables: Record<string, CassandraTableFingerprint> }>;
  roles: Record<string, string>;
}

/** Every non-system keyspace; `onCase` gets each row of <keyspace>.cases. */
export async function fingerprintCassandra(ctx: TheHiveContext, onCase?: (row: cassandra.types.Row) => void): Promise<CassandraFingerprint> {
  return withCql(ctx, async (client) => {
    const keyspaceRows = (await client.execute('SELECT keyspace_name, replication FROM system_schema.keyspaces')).rows;
    const userKeyspaces = keyspaceRows
      .filter((r) => !(r.keyspace_name as string).startsWith('system'))
      .sort((a, b) => byCodeUnit(a.keyspace_name as string, b.keyspace_name as string));
    const keyspaces: CassandraFingerprint['keyspaces'] = {};
    for (const ks of userKeyspaces) {
      const name = ks.keyspace_name as string;
      const columns = (await client.execute('SELECT table_name, column_name, kind, position, type, clustering_order FROM system_schema.columns WHERE keyspace_name = ?', [name], { prepare: true }))
        .rows as unknown as ColumnRow[];
      const tableRows = (
        await client.execute('SELECT table_name, gc_grace_seconds, default_time_to_live, comment FROM system_schema.tables WHERE keyspace_name = ?', [name], { prepare: true })
      ).rows;
      const tables: Record<string, CassandraTableFingerprint> = {};
      for (const t of tableRows.sort((a, b) => byCodeUnit(a.table_name as string, b.table_name as string))) {
        const table = t.table_name as string;
        const own = columns
          .filter((c) => c.table_name === table)
          .sort((a, b) => (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) || a.position - b.position || byCodeUnit(a.column_name, b.column_name));
        const digest = await tableDigest(client, name, table, own, name === ctx.keyspace && table === 'cases' ? onCase : undefined);
        tables[table] = {
          ...digest,
          columns: own.map((c) => `${c.column_name} ${c.type} ${c.kind}${c.clustering_order && c.clustering_order !== 'none' ? ` ${c.clustering_order}` : ''}`),
          options: { gc_grace_seconds: t.gc_grace_seconds, default_time_to_live: t.default_time_to_live, comment: t.comment },
        };
      }
      keyspaces[name] = { replication: Object.fromEntries(Object.entries(ks.replication as Record<string, string>).sort(([a], [b]) => byCodeUnit(a, b))), tables };
    }
    const roles: Record<string, string> = {};
    for (const r of (await client.execute('SELECT role, can_login, is_superuser FROM system_auth.roles')).rows) {
      roles[r.role as string] = `${r.can_login ? 'login' : 'nologin'} ${r.is_superuser ? 'superuser' : 'nosuperuser'}`;
    }
    return { keyspaces, roles };
  });
}

export interface IndexFingerprint {
  docs: number;
  sha256: string;
  mapping: string;
  settings: Record<string, unknown>;
  aliases: string[];
}

const VOLATILE_SETTINGS = new Set(['uuid', 'creation_date', 'provided_name', 'version']);

async function scrollDocuments(base: string, index: string, each: (id: string, source: unknown) => void): Promise<void> {
  let body = await es<{ _scroll_id?: string; hits: { hits: Array<{ _id: string; _source?: unknown }> } }>(base, 'POST', `/${encodeURIComponent(index)}/_search?scroll=2m`, {
    size: 2000,
    sort: ['_doc'],
    query: { match_all: {} },
  });
  let scrollId = body._scroll_id;
  try {
    for (;;) {
      for (const hit of body.hits.hits) each(hit._id, hit._source ?? null);
      if (body.hits.hits.length === 0 || !scrollId) break;
      body = await es(base, 'POST', '/_search/scroll', { scroll: '2m', scroll_id: scrollId });
      scrollId = body._scroll_id ?? scrollId;
    }
  } finally {
    if (scrollId) await es(base, 'DELETE', '/_search/scroll', { scroll_id: scrollId }, [200, 404]).catch(() => undefined);
  }
}

export interface ElasticsearchFingerprint {
  indices: Record<string, IndexFingerprint & { status: string }>;
  templates: Record<string, string>;
}

/** User indices (not ".name"); `onDocument` gets each _id of the stack's index. */
export async function fingerprintElasticsearch(ctx: TheHiveContext, onDocument?: (id: string) => void): Promise<ElasticsearchFingerprint> {
  const base = await esBase(ctx);
  const cat = await es<Array<{ index: string; status: string }>>(base, 'GET', '/_cat/indices?format=json&h=index,status&expand_wildcards=all');
  const indices = cat.filter((i) => !i.index.startsWith('.')).sort((a, b) => byCodeUnit(a.index, b.index));
  const open = indices.filter((i) => i.status === 'open').map((i) => i.index);
  // Writes become visible to search on refresh; fingerprint what was written.
  if (open.length > 0) await es(base, 'POST', `/${open.map(encodeURIComponent).join(',')}/_refresh`);
  const result: ElasticsearchFingerprint['indices'] = {};
  for (const { index, status } of indices) {
    const path = encodeURIComponent(index);
    const mapping = await es<Record<string, { mappings: unknown }>>(base, 'GET', `/${path}/_mapping`);
    const settings = await es<Record<string, { settings: { index: Record<string, unknown> } }>>(base, 'GET', `/${path}/_settings`);
    const aliases = await es<Record<string, { aliases: Record<string, Record<string, unknown>> }>>(base, 'GET', `/${path}/_alias`);
    const lines: string[] = [];
    if (status === 'open') {
      await scrollDocuments(base, index, (id, source) => {
        lines.push(`${id}\t${sha256(canonicalJson(source))}`);
        if (index === ctx.index) onDocument?.(id);
      });
    }
    lines.sort(byCodeUnit);
    const indexSettings = Object.fromEntries(Object.entries(settings[index]?.settings.index ?? {}).filter(([key]) => !VOLATILE_SETTINGS.has(key)));
    const aliasDefs = aliases[index]?.aliases ?? {};
    result[index] = {
      status,
      docs: status === 'open' ? lines.length : -1,
      sha256: status === 'open' ? sha256(lines.map((l) => `${l}\n`).join('')) : 'closed',
      mapping: sha256(canonicalJson(mapping[index]?.mappings ?? {})),
      settings: indexSettings,
      aliases: Object.keys(aliasDefs)
        .sort(byCodeUnit)
        .map((name) => (Object.keys(aliasDefs[name]!).length > 0 ? `${name} ${canonicalJson(aliasDefs[name])}` : name)),
    };
  }
  const templates: Record<string, string> = {};
  const legacy = await es<Record<string, unknown>>(base, 'GET', '/_template');
  for (const [name, def] of Object.entries(legacy)) if (!name.startsWith('.')) templates[`legacy ${name}`] = sha256(canonicalJson(def));
  const composable = await es<{ index_templates?: Array<{ name: string; index_template: unknown }> }>(base, 'GET', '/_index_template', undefined, [200, 404]);
  for (const t of composable?.index_templates ?? []) if (!t.name.startsWith('.')) templates[t.name] = sha256(canonicalJson(t.index_template));
  return { indices: result, templates };
}

export interface TheHiveConsistency {
  /** Rows in <keyspace>.cases. */
  cases: number;
  /** Documents in the index (ELASTICSEARCH_INDEX). */
  documents: number;
  /** Regular files in the attachment folder. */
  files: number;
  casesWithoutDocument: number;
  documentsWithoutCase: number;
  casesWithoutFile: number;
  filesWithoutCase: number;
  /** Files whose sha256 is not the one their case row holds. */
  fileHashMismatches: number;
}

export function consistencyOf(documents: ReadonlySet<string>, cases: ReadonlyMap<string, string | null>, files: readonly TreeEntry[]): TheHiveConsistency {
  const fileHash = new Map<string, string>();
  for (const e of files) if (e.type === 'file') fileHash.set(e.path, e.sha256 ?? '');
  let casesWithoutDocument = 0;
  let casesWithoutFile = 0;
  let fileHashMismatches = 0;
  const caseFiles = new Set<string>();
  for (const [id, hash] of cases) {
    if (!documents.has(id)) casesWithoutDocument++;
    const path = `${id.slice(0, 2)}/${id}`;
    caseFiles.add(path);
    const actual = fileHash.get(path);
    if (actual === undefined) casesWithoutFile++;
    else if (actual !== hash) fileHashMismatches++;
  }
  let documentsWithoutCase = 0;
  for (const id of documents) if (!cases.has(id)) documentsWithoutCase++;
  let filesWithoutCase = 0;
  for (const path of fileHash.keys()) if (!caseFiles.has(path)) filesWithoutCase++;
  return { cases: cases.size, documents: documents.size, files: fileHash.size, casesWithoutDocument, documentsWithoutCase, casesWithoutFile, filesWithoutCase, fileHashMismatches };
}

async function listFiles(ctx: TheHiveContext): Promise<TreeEntry[]> {
  return listTree(docker, { image: await helperImage(), source: ctx.files, runId: RUN_ID });
}

/** The three stores' cross-checks only (no hashes of the tables): for tests that write while they check. */
export async function readTheHiveConsistency(ctx: TheHiveContext): Promise<TheHiveConsistency> {
  const documents = new Set<string>();
  const base = await esBase(ctx);
  const refreshed = await esRequest(base, 'POST', `/${encodeURIComponent(ctx.index)}/_refresh`);
  if (refreshed.status === 200) await scrollDocuments(base, ctx.index, (id) => documents.add(id));
  const cases = new Map<string, string | null>();
  await withCql(ctx, async (client) => {
    let pageState: string | undefined;
    do {
      const result = await client.execute(`SELECT id, sha256 FROM ${ctx.keyspace}.cases`, [], { prepare: true, fetchSize: PAGE, ...(pageState ? { pageState } : {}) });
      for (const row of result.rows) cases.set(String(row.get('id')), row.get('sha256') as string | null);
      pageState = result.pageState ?? undefined;
    } while (pageState);
  });
  return consistencyOf(documents, cases, await listFiles(ctx));
}

/** Every regular file of the stack folder except engine data, TheHive's files and BACKUP_ROOT. */
async function fingerprintConfigFiles(ctx: TheHiveContext): Promise<Record<string, string>> {
  const skip = [join(ctx.dir, 'cassandra'), join(ctx.dir, 'elasticsearch'), join(ctx.dir, 'thehive', 'data'), ctx.backupRoot];
  return hashFilesExcept(ctx.dir, skip);
}

export async function computeTheHiveFingerprint(ctx: TheHiveContext): Promise<Record<string, unknown>> {
  const documents = new Set<string>();
  const elasticsearch = await fingerprintElasticsearch(ctx, (id) => documents.add(id));
  const cases = new Map<string, string | null>();
  const cassandraPart = await fingerprintCassandra(ctx, (row) => cases.set(String(row.get('id')), row.get('sha256') as string | null));
  const entries = await listFiles(ctx);
  const files: TreeFingerprint = treeFingerprint(entries);
  return {
    stack: 'thehive',
    version: ctx.env.THEHIVE_VERSION ?? null,
    cassandra: cassandraPart,
    elasticsearch,
    files: { 'thehive/data/files': files },
    config: await fingerprintConfigFiles(ctx),
    consistency: consistencyOf(documents, cases, entries),
  };
}
