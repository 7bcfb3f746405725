// Postgres compared logically: row content, not data files (the server
// rewrites those on every start, and a restore from a dump lays them out
// anew). Per table, the rows are read through a cursor in primary-key order
// inside one repeatable-read snapshot per database and hashed as the
// server prints them, with session settings fixed (see services/postgres).
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { StackContext } from '../context.ts';
import { stackDatabases, withDatabase } from '../services/postgres.ts';
import { sha256 } from './canonical.ts';

export interface TableFingerprint {
  rows: number;
  sha256: string;
  /** Names, types and NOT NULL of the columns, in order. */
  columns: string;
}

export interface DatabaseFingerprint {
  tables: Record<string, TableFingerprint>;
  /** last_value of each sequence (null before first use): what new rows will be numbered from. */
  sequences: Record<string, string | null>;
}

const FETCH = 5000;

async function tableFingerprint(client: pg.Client, oid: number, qualified: string): Promise<TableFingerprint> {
  const columns = await client.query<{ attname: string; type: string; attnotnull: boolean }>(
    `SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  const key = await client.query<{ attname: string; typcategory: string }>(
    `SELECT a.attname, t.typcategory
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
       JOIN pg_type t ON t.oid = a.atttypid
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [oid],
  );
  // Text keys sort byte-wise (COLLATE "C") so the order does not depend on
  // the server's locale; without a key, whole rows are the order.
  const order =
    key.rows.length > 0
      ? key.rows.map((k) => `${client.escapeIdentifier(k.attname)}${k.typcategory === 'S' ? ' COLLATE "C"' : ''}`).join(', ')
      : 't::text COLLATE "C"';
  const hash = createHash('sha256');
  let rows = 0;
  await client.query(`DECLARE fingerprint_rows NO SCROLL CURSOR FOR SELECT t::text AS row FROM ${qualified} AS t ORDER BY ${order}`);
  for (;;) {
    const batch = await client.query<{ row: string }>(`FETCH ${FETCH} FROM fingerprint_rows`);
    for (const { row } of batch.rows) hash.update(`${row}\n`);
    rows += batch.rows.length;
    if (batch.rows.length < FETCH) break;
  }
  await client.query('CLOSE fingerprint_rows');
  return {
    rows,
    sha256: hash.digest('hex'),
    columns: sha256(columns.rows.map((c) => `${c.attname} ${c.type}${c.attnotnull ? ' not null' : ''}`).join('\n')),
  };
}

async function databaseFingerprint(client: pg.Client): Promise<DatabaseFingerprint> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const tables = await client.query<{ oid: number; nspname: string; relname: string }>(
      `SELECT c.oid::int AS oid, n.nspname, c.relname
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
        ORDER BY n.nspname, c.relname`,
    );
    const result: DatabaseFingerprint = { tables: {}, sequences: {} };
    for (const t of tables.rows) {
      const qualified = `${client.escapeIdentifier(t.nspname)}.${client.escapeIdentifier(t.relname)}`;
      result.tables[`${t.nspname}.${t.relname}`] = await tableFingerprint(client, t.oid, qualified);
    }
    const sequences = await client.query<{ schemaname: string; sequencename: string; last_value: string | null }>(
      'SELECT schemaname, sequencename, last_value::text FROM pg_sequences ORDER BY 1, 2',
    );
    for (const s of sequences.rows) result.sequences[`${s.schemaname}.${s.sequencename}`] = s.last_value;
    return result;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

export interface PostgresFingerprint {
  /** Databases of the cluster with their owners, and its roles (no password hashes). */
  cluster: { databases: Record<string, string>; roles: Record<string, string> };
  databases: Record<string, DatabaseFingerprint>;
}

export async function fingerprintPostgres(ctx: StackContext): Promise<PostgresFingerprint> {
  const [first] = stackDatabases(ctx);
  const cluster = await withDatabase(ctx, first!, async (client) => {
    const dbs = await client.query<{ datname: string; owner: string }>(
      'SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE NOT datistemplate ORDER BY 1',
    );
    const roles = await client.query<{ rolname: string; flags: string }>(
      `SELECT rolname, concat_ws(' ', CASE WHEN rolsuper THEN 'superuser' END, CASE WHEN rolcanlogin THEN 'login' END) AS flags
         FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1`,
    );
    return {
      databases: Object.fromEntries(dbs.rows.map((d) => [d.datname, d.owner])),
      roles: Object.fromEntries(roles.rows.map((r) => [r.rolname, r.flags])),
    };
  });
  const databases: Record<string, DatabaseFingerprint> = {};
  for (const database of stackDatabases(ctx)) databases[database] = await withDatabase(ctx, database, databaseFingerprint);
  return { cluster, databases };
}
