// Seed rows for hoss_core and hoss_auth, generated inside Postgres from
// generate_series so that 100k x N rows load in seconds. Every value is a
// function of the row number only (md5, modular arithmetic, fixed epochs),
// so the same scale gives the same rows on any machine. Types cover what a
// dump must carry: bytea, text with non-ASCII, json and jsonb, arrays,
// uuid, timestamptz, booleans and NULLs.
import type pg from 'pg';
import type { StackContext } from '../context.ts';
import { withDatabase } from '../services/postgres.ts';

/** Rows of the one large table per unit of scale. */
export const OBJECTS_PER_SCALE = 100_000;

// The core stand-in owns accounts and ledger (it creates them on start and
// may be writing): they are emptied and refilled, never dropped.
function coreSql(scale: number): string[] {
  const datasets = 50 * scale;
  return [
    'DROP TABLE IF EXISTS objects, datasets, namespaces CASCADE',
    `CREATE TABLE namespaces (
       id integer PRIMARY KEY,
       name text NOT NULL UNIQUE,
       description text,
       bucket text NOT NULL,
       created_at timestamptz NOT NULL)`,
    `CREATE TABLE datasets (
       id integer PRIMARY KEY,
       namespace_id integer NOT NULL REFERENCES namespaces (id),
       name text NOT NULL,
       metadata jsonb NOT NULL,
       created_at timestamptz NOT NULL,
       deleted_at timestamptz)`,
    `CREATE TABLE objects (
       id bigint PRIMARY KEY,
       dataset_id integer NOT NULL REFERENCES datasets (id),
       key text NOT NULL,
       size bigint NOT NULL,
       etag bytea NOT NULL,
       metadata json,
       note text,
       modified_at timestamptz NOT NULL)`,
    'CREATE INDEX objects_dataset_key ON objects (dataset_id, key)',
    `INSERT INTO namespaces
       SELECT g, 'ns-' || g,
              CASE WHEN g % 2 = 0 THEN NULL ELSE 'Espace ' || g || ' — données partagées' END,
              'bucket-' || g,
              timestamptz '2021-06-01 00:00:00+00' + g * interval '1 day'
       FROM generate_series(1, 5) AS g`,
    `INSERT INTO datasets
       SELECT g, 1 + g % 5, 'dataset-' || lpad(g::text, 5, '0'),
              jsonb_build_object('owner', 'user' || lpad((g % 37)::text, 4, '0'),
                                 'tags', jsonb_build_array('t' || g % 3, 't' || g % 5),
                                 'public', g % 4 = 0,
                                 'quota', (g * 7919) % 100000),
              timestamptz '2021-07-01 00:00:00+00' + g * interval '3 hours',
              CASE WHEN g % 9 = 0 THEN timestamptz '2022-03-01 12:00:00+00' + g * interval '1 minute' END
       FROM generate_series(1, ${datasets}) AS g`,
    `INSERT INTO objects
       SELECT g, 1 + g % ${datasets},
              format('data/%s/file-%s.bin', g % 97, g),
              (g::bigint * 7919) % 104729,
              decode(md5('etag-' || g), 'hex'),
              CASE WHEN g % 5 = 0 THEN NULL
                   ELSE json_build_object('content-type', CASE WHEN g % 2 = 0 THEN 'application/octet-stream' ELSE 'image/tiff' END,
                                          'x-seq', g, 'x-label', 'Ünïcødé ' || (g % 11)) END,
              CASE WHEN g % 3 = 0 THEN NULL ELSE repeat('ø', g % 7) || ' note ' || g END,
              timestamptz '2022-01-01 00:00:00+00' + g * interval '17 seconds'
       FROM generate_series(1, ${OBJECTS_PER_SCALE * scale}) AS g`,
    'TRUNCATE accounts, ledger RESTART IDENTITY',
    `INSERT INTO accounts
       SELECT g, 'account-' || lpad(g::text, 4, '0'), 1000 + (g * 37) % 500
       FROM generate_series(1, 100) AS g`,
  ];
}

function authSql(scale: number): string[] {
  const users = 200 * scale;
  return [
    'DROP TABLE IF EXISTS memberships, api_tokens, users, groups CASCADE',
    `CREATE TABLE users (
       id integer PRIMARY KEY,
       username text NOT NULL UNIQUE,
       email text,
       full_name text,
       avatar bytea,
       created_at timestamptz NOT NULL,
       last_login timestamptz,
       disabled boolean NOT NULL DEFAULT false)`,
    `CREATE TABLE groups (
       id integer PRIMARY KEY,
       name text NOT NULL UNIQUE,
       description text)`,
    `CREATE TABLE memberships (
       user_id integer NOT NULL REFERENCES users (id),
       group_id integer NOT NULL REFERENCES groups (id),
       role text NOT NULL,
       PRIMARY KEY (user_id, group_id))`,
    `CREATE TABLE api_tokens (
       token_id uuid PRIMARY KEY,
       user_id integer NOT NULL REFERENCES users (id),
       token_hash bytea NOT NULL,
       scopes text[] NOT NULL,
       expires_at timestamptz)`,
    `INSERT INTO users
       SELECT g, 'user' || lpad(g::text, 4, '0'),
              CASE WHEN g % 10 = 0 THEN NULL ELSE 'user' || g || '@hoss.example.org' END,
              'Użytkownik ' || g,
              CASE WHEN g % 4 = 0 THEN decode(repeat(md5('avatar-' || g), 8), 'hex') END,
              timestamptz '2021-05-01 08:00:00+00' + g * interval '90 minutes',
              CASE WHEN g % 3 = 0 THEN NULL ELSE timestamptz '2022-02-01 00:00:00+00' + g * interval '7 minutes' END,
              g % 17 = 0
       FROM generate_series(1, ${users}) AS g`,
    `INSERT INTO groups
       SELECT g, (ARRAY['admin', 'developers', 'readers', 'writers', 'auditors', 'ops', 'science', 'imaging', 'guests', 'service'])[g],
              CASE WHEN g % 3 = 0 THEN NULL ELSE 'Group number ' || g END
       FROM generate_series(1, 10) AS g`,
    `INSERT INTO memberships
       SELECT u, 1 + (u * k) % 10, CASE WHEN k = 1 THEN 'owner' ELSE 'member' END
       FROM generate_series(1, ${users}) AS u, generate_series(1, 3) AS k
       WHERE k <= 1 + u % 3
       ON CONFLICT DO NOTHING`,
    `INSERT INTO api_tokens
       SELECT md5('token-' || g)::uuid, 1 + g % ${users},
              sha256(convert_to('secret-' || g, 'UTF8')),
              CASE WHEN g % 2 = 0 THEN ARRAY['read', 'write'] ELSE ARRAY['read'] END,
              CASE WHEN g % 5 = 0 THEN NULL ELSE timestamptz '2030-01-01 00:00:00+00' + g * interval '1 hour' END
       FROM generate_series(1, ${300 * scale}) AS g`,
  ];
}

async function runAll(client: pg.Client, statements: readonly string[]): Promise<void> {
  await client.query('BEGIN');
  try {
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function seedPostgres(ctx: StackContext, scale: number): Promise<void> {
  await withDatabase(ctx, ctx.env.POSTGRES_CORE_DB!, (client) => runAll(client, coreSql(scale)));
  await withDatabase(ctx, ctx.env.POSTGRES_AUTH_DB!, (client) => runAll(client, authSql(scale)));
}
