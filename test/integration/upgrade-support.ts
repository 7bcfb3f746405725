// What the upgrade tests look at on the real stack: the version .env names,
// the archives in BACKUP_ROOT/backups, which services run, and exactly which
// fingerprint keys release 0.3.0's schema migration changes.
import { readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadContext } from '../../compose/driver/context.ts';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { withDatabase } from '../../compose/driver/services/postgres.ts';
import { parseEnv } from '../../src/config/env-file.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { runStack } from './stack-support.ts';

export interface TestStack {
  hossDir: string;
  project: string;
  env: Record<string, string>;
}

/** Keys of `compose/stack fingerprint` that the move from 0.2.13 to 0.3.0 changes, and no others. */
export const MIGRATION_0_3_0_KEYS = [
  'config/.env',
  'postgres/databases/hoss_core/tables/public.accounts/columns',
  'postgres/databases/hoss_core/tables/public.accounts/sha256',
  'postgres/databases/hoss_core/tables/public.schema_version/columns',
  'postgres/databases/hoss_core/tables/public.schema_version/rows',
  'postgres/databases/hoss_core/tables/public.schema_version/sha256',
  'version',
];

export const envText = (stack: TestStack) => readFile(join(stack.hossDir, '.env'), 'utf8');

export async function envVersion(stack: TestStack): Promise<string | undefined> {
  return parseEnv(await envText(stack)).HOSS_VERSION;
}

export async function archives(stack: TestStack): Promise<string[]> {
  return (await readdir(join(stack.hossDir, 'backup', 'backups')).catch(() => [] as string[])).sort();
}

/** "service:state" of every container of the project, sorted. */
export async function serviceStates(stack: TestStack): Promise<string[]> {
  return (await projectContainers(new EngineClient(), stack.project)).map((c) => `${c.service}:${c.state}`).sort();
}

export const ALL_RUNNING = ['auth', 'core', 'db', 'ldap', 'opensearch', 'rabbitmq'].map((s) => `${s}:running`);

/** What release 0.3.0's migration leaves in hoss_core: the recorded releases and accounts' columns. */
export async function coreSchema(stack: TestStack): Promise<{ releases: string[]; accountColumns: string[] }> {
  const ctx = await loadContext(stack.hossDir);
  return withDatabase(ctx, 'hoss_core', async (client) => {
    const columns = await client.query<{ name: string }>("select column_name as name from information_schema.columns where table_name = 'accounts' order by 1");
    const recorded = await client.query<{ version: string }>("select version from schema_version order by 1").catch(() => ({ rows: [] as { version: string }[] }));
    return { releases: recorded.rows.map((r) => r.version), accountColumns: columns.rows.map((r) => r.name) };
  });
}

/** Everything the test made goes: containers, volumes, and its folder (root-owned files through a helper). */
export async function removeStack(stack: TestStack): Promise<void> {
  await runStack(['reset'], stack.env);
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
}
