// A pg client on a stack database, at the db container's address (no host
// port is published). The session settings fix how values print, so row
// text is the same whatever the server's defaults.
import pg from 'pg';
import type { StackContext } from '../context.ts';
import { serviceAddress } from './containers.ts';

const SESSION = [
  "SET TimeZone = 'UTC'",
  "SET DateStyle = 'ISO, YMD'",
  "SET IntervalStyle = 'postgres'",
  'SET extra_float_digits = 1',
  "SET bytea_output = 'hex'",
  "SET client_encoding = 'UTF8'",
];

export function stackDatabases(ctx: StackContext): string[] {
  return [ctx.env.POSTGRES_CORE_DB!, ctx.env.POSTGRES_AUTH_DB!];
}

export async function connect(ctx: StackContext, database: string, host?: string): Promise<pg.Client> {
  const client = new pg.Client({
    host: host ?? (await serviceAddress(ctx, 'db')),
    port: 5432,
    user: ctx.env.POSTGRES_USER,
    password: ctx.env.POSTGRES_PASSWORD,
    database,
    connectionTimeoutMillis: 5000,
  });
  await client.connect();
  try {
    for (const statement of SESSION) await client.query(statement);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return client;
}

export async function withDatabase<T>(ctx: StackContext, database: string, work: (client: pg.Client) => Promise<T>, host?: string): Promise<T> {
  const client = await connect(ctx, database, host);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
