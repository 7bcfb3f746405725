-- A deliberately bad release, for testing rollback for real: it applies
-- 0.3.0's migration, then moves the ledger aside as if a later step were
-- to rebuild it, and never does. The data is changed and the core's health
-- check (which needs ledger) fails, as after a botched upgrade; only
-- restoring the pre-upgrade backup brings the old state back.
\ir 0.3.0.sql
ALTER TABLE ledger RENAME TO ledger_before_0_3;
