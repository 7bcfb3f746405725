// seed [--scale N] for the TheHive stack: deterministic content replacing
// what was there. Cassandra: every table of the keyspace is emptied
// (TRUNCATE, then the automatic truncate snapshots are cleared) and filled
// with prepared statements run concurrently; Elasticsearch: the index is
// dropped, made again from index.json and filled with _bulk; files: the
// attachment tree is replaced through a helper and handed to TheHive's uid.
// Run it on a quiet stack (write switch off).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import cassandra from 'cassandra-driver';
import { OperationError } from '../../../src/errors.ts';
import { seedStep } from '../seed/step.ts';
import { runHelperScript } from '../runtime.ts';
import { THEHIVE_OWNER, type TheHiveContext } from './context.ts';
import { writeTheHiveConfig } from './config-folder.ts';
import { attachmentPath, caseDocument, seedCases, seedCounters, seedTables } from './data.ts';
import { indexDefinition, schemaStatements } from './schema.ts';
import { es, esBase, execInTheHive, withCql } from './services.ts';

const CONCURRENCY = 64;
const BULK_DOCS = 1000;

async function concurrently(client: cassandra.Client, query: string, rows: Iterable<unknown[]>): Promise<number> {
  // executeConcurrent takes an array or a stream; chunks keep memory flat at any scale.
  let total = 0;
  let chunk: unknown[][] = [];
  const flush = async () => {
    if (chunk.length === 0) return;
    const result = await cassandra.concurrent.executeConcurrent(client, query, chunk, { concurrencyLevel: CONCURRENCY, raiseOnFirstError: true });
    total += result.totalExecuted;
    chunk = [];
  };
  for (const row of rows) {
    chunk.push(row);
    if (chunk.length >= 5000) await flush();
  }
  await flush();
  return total;
}

async function seedCassandra(ctx: TheHiveContext, scale: number): Promise<void> {
  const ks = ctx.keyspace;
  await withCql(ctx, async (client) => {
    for (const statement of await schemaStatements(ks)) await client.execute(statement);
    const tables = (await client.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [ks], { prepare: true })).rows.map(
      (r) => r.table_name as string,
    );
    let truncated = 0;
    for (const table of tables) {
      const any = await client.execute(`SELECT * FROM ${ks}.${table} LIMIT 1`);
      if (any.rowLength === 0) continue;
      await client.execute(`TRUNCATE ${ks}.${table}`);
      truncated++;
    }
    if (truncated > 0) {
      // TRUNCATE takes an automatic snapshot (auto_snapshot); seeded data
      // has no history to keep, and the folder should hold live data only.
      await execInTheHive(ctx, 'cassandra', ['nodetool', 'clearsnapshot', '--all', '--', ks]);
    }
    const cases = function* () {
      for (const c of seedCases(scale)) {
        yield [cassandra.types.Uuid.fromString(c.id), c.number, c.title, c.tags.length > 0 ? c.tags : null, c.created, c.attachment, c.sha256];
      }
    };
    await concurrently(client, `INSERT INTO ${ks}.cases (id, number, title, tags, created, attachment, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)`, cases());
    for (const table of seedTables(ks, scale)) await concurrently(client, table.insert, table.rows());
    for (const [name, value] of seedCounters(scale)) {
      await client.execute(`UPDATE ${ks}.sequences SET value = value + ? WHERE name = ?`, [cassandra.types.Long.fromNumber(value), name], { prepare: true });
    }
  });
}

async function seedIndex(ctx: TheHiveContext, scale: number): Promise<void> {
  const base = await esBase(ctx);
  await es(base, 'DELETE', `/${ctx.index}`, undefined, [200, 404]);
  await es(base, 'PUT', `/${ctx.index}`, await indexDefinition());
  let lines: string[] = [];
  const flush = async () => {
    if (lines.length === 0) return;
    const body = await es<{ errors: boolean; items: Array<Record<string, { error?: { reason?: string } }>> }>(base, 'POST', '/_bulk', `${lines.join('\n')}\n`);
    if (body.errors) {
      const first = body.items.map((i) => Object.values(i)[0]?.error?.reason).find(Boolean);
      throw new OperationError(`bulk indexing into ${ctx.index} failed: ${first ?? 'unknown reason'}`);
    }
    lines = [];
  };
  for (const c of seedCases(scale)) {
    lines.push(JSON.stringify({ index: { _index: ctx.index, _id: c.id } }), JSON.stringify(caseDocument({ ...c, tags: c.tags.length > 0 ? c.tags : null })));
    if (lines.length >= 2 * BULK_DOCS) await flush();
  }
  await flush();
  await es(base, 'POST', `/${ctx.index}/_refresh`);
}

async function seedFiles(ctx: TheHiveContext, scale: number): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'thehive-seed-'));
  try {
    const tree = join(scratch, 'files');
    await mkdir(tree, { mode: 0o755 });
    for (const c of seedCases(scale)) {
      const path = join(tree, attachmentPath(c.id));
      await mkdir(dirname(path), { recursive: true, mode: 0o755 });
      await writeFile(path, c.content, { mode: 0o644 });
    }
    // Replace the tree in place (the folder itself is a bind source), with
    // the owner and modes TheHive's own writes get.
    await runHelperScript({
      script: [
        'set -e',
        'find /files -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +',
        'cp -R /seed/. /files/',
        'chown -R "$1" /files',
        'find /files -type d -exec chmod 755 {} +',
        'find /files -type f -exec chmod 644 {} +',
      ].join('\n'),
      args: [THEHIVE_OWNER],
      mounts: [
        { source: tree, target: '/seed', readOnly: true },
        { source: ctx.files, target: '/files' },
      ],
      purpose: 'seed thehive files',
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export async function seedTheHive(ctx: TheHiveContext, scale: number): Promise<void> {
  await seedStep('config files', () => writeTheHiveConfig(ctx, true));
  // The order TheHive writes a case in: file, row, document.
  await seedStep('attachment files', () => seedFiles(ctx, scale));
  await seedStep('cassandra', () => seedCassandra(ctx, scale));
  await seedStep('elasticsearch', () => seedIndex(ctx, scale));
}
