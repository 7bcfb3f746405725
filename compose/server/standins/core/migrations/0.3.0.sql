-- Release 0.3.0 of the core stand-in: accounts gain a currency and the
-- database records which release last migrated it. Safe to run again on
-- every start. psql's variable :version names the release being started.
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'EUR';
CREATE TABLE IF NOT EXISTS schema_version (
  version text PRIMARY KEY
);
INSERT INTO schema_version (version) VALUES (:'version') ON CONFLICT DO NOTHING;
