-- One transfer as one transaction (a DO block is a single statement): the
-- debit, the credit and the ledger row commit together or not at all. The
-- short sleep between debit and credit widens the window in which a copy of
-- the data files, rather than a dump, would see money missing.
DO $$
DECLARE
  n integer;
  src integer;
  dst integer;
  amount bigint := 1 + floor(random() * 50)::bigint;
BEGIN
  SELECT count(*) INTO n FROM accounts;
  IF n < 2 THEN
    RETURN;
  END IF;
  SELECT id INTO src FROM accounts ORDER BY id OFFSET floor(random() * n)::integer LIMIT 1;
  SELECT id INTO dst FROM accounts WHERE id <> src ORDER BY id OFFSET floor(random() * (n - 1))::integer LIMIT 1;
  UPDATE accounts SET balance = balance - amount WHERE id = src;
  PERFORM pg_sleep(0.005);
  UPDATE accounts SET balance = balance + amount WHERE id = dst;
  INSERT INTO ledger (from_id, to_id, amount) VALUES (src, dst, amount);
END
$$;
