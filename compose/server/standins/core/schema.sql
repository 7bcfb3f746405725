-- The core stand-in's own tables, made on every start like a migration.
-- accounts.balance sums to a constant that only a torn copy breaks; ledger
-- gains one row per transfer.
CREATE TABLE IF NOT EXISTS accounts (
  id integer PRIMARY KEY,
  owner text NOT NULL,
  balance bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  from_id integer NOT NULL,
  to_id integer NOT NULL,
  amount bigint NOT NULL
);
