// CQL from hossadm to the stack's Cassandra nodes at their addresses on the
// compose network (no published port), with the password held in memory
// only. Used for what nodetool cannot say: versions, the schema (server-side
// DESCRIBE, Cassandra 4.0+), DDL on restore and the content fingerprint.
import { createHash } from 'node:crypto';
import type cassandra from 'cassandra-driver';
import { OperationError } from '../../errors.ts';

export interface CqlLogin {
  user: string | undefined;
  password: string | undefined;
}

export interface CqlSession {
  execute(query: string, params?: unknown[]): Promise<cassandra.types.Row[]>;
  /** Every row of a query, page by page, read at consistency ALL: every replica must answer and agree. */
  rows(query: string): AsyncIterable<cassandra.types.Row>;
  close(): Promise<void>;
}

export async function openCql(addresses: readonly string[], port: number, datacenter: string, login: CqlLogin, what: string): Promise<CqlSession> {
  // Loaded here, not at start: only Cassandra stacks pay for the driver's memory.
  const driver = (await import('cassandra-driver')).default;
  const client = new driver.Client({
    contactPoints: addresses.map((a) => `${a}:${port}`),
    localDataCenter: datacenter,
    ...(login.user ? { authProvider: new driver.auth.PlainTextAuthProvider(login.user, login.password ?? '') } : {}),
    socketOptions: { connectTimeout: 10_000, readTimeout: 120_000 },
    queryOptions: { fetchSize: 1000 },
  });
  try {
    await client.connect();
  } catch (error) {
    await client.shutdown().catch(() => undefined);
    throw new OperationError(`cannot log in to Cassandra at ${addresses.join(', ')}: ${(error as Error).message}`, {
      hint: `check that ${what} answers and the credentials in the stack's .env`,
      cause: error,
    });
  }
  const fail = (query: string, error: unknown) =>
    new OperationError(`Cassandra refused "${query.slice(0, 120)}": ${(error as Error).message}`, { cause: error });
  return {
    async execute(query, params = []) {
      try {
        return (await client.execute(query, params as cassandra.ArrayOrObject, { prepare: params.length > 0 })).rows;
      } catch (error) {
        throw fail(query, error);
      }
    },
    async *rows(query) {
      const stream = client.stream(query, [], { prepare: false, fetchSize: 1000, consistency: driver.types.consistencies.all }) as unknown as AsyncIterable<cassandra.types.Row>;
      try {
        for await (const row of stream) yield row;
      } catch (error) {
        throw fail(query, error);
      }
    },
    close: () => client.shutdown(),
  };
}

export function quoteCql(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One schema statement of a keyspace, as server-side DESCRIBE gives it. */
export interface SchemaStatement {
  type: string;
  name: string;
  statement: string;
}

export async function describeKeyspace(session: CqlSession, keyspace: string): Promise<SchemaStatement[]> {
  const rows = await session.execute(`DESCRIBE KEYSPACE ${quoteCql(keyspace)}`);
  return rows.map((r) => ({ type: String(r.get('type')), name: String(r.get('name')), statement: String(r.get('create_statement')) }));
}

export async function tablesOf(session: CqlSession, keyspace: string): Promise<{ table: string; id: string }[]> {
  const rows = await session.execute('SELECT table_name, id FROM system_schema.tables WHERE keyspace_name = ?', [keyspace]);
  return rows.map((r) => ({ table: String(r.get('table_name')), id: String(r.get('id')) })).sort((a, b) => a.table.localeCompare(b.table));
}

export async function keyspaceExists(session: CqlSession, keyspace: string): Promise<boolean> {
  return (await session.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace])).length > 0;
}

/**
 * Row count and a hash of a table's rows read in token order (the order a
 * full scan returns, fixed by the partitioner, not by which node owns what),
 * each row in the server's own JSON form. 48 bits of the sha256 keep it an
 * exact number in the manifest's fingerprint.
 */
export async function tableFingerprint(session: CqlSession, keyspace: string, table: string): Promise<{ rows: number; hash: number }> {
  const hash = createHash('sha256');
  let rows = 0;
  for await (const row of session.rows(`SELECT JSON * FROM ${quoteCql(keyspace)}.${quoteCql(table)}`)) {
    hash.update(String(row.get('[json]')));
    hash.update('\n');
    rows++;
  }
  return { rows, hash: hash.digest().readUIntBE(0, 6) };
}
