// The reference stack on the real engine: up, seed, fingerprint; every kind
// of change a restore could get wrong shows up in the fingerprint under the
// key that names it; reset leaves only the backups.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { loadContext, VOLUMES, type StackContext } from '../../compose/driver/context.ts';
import { readCoreLedger, setCoreWriting } from '../../compose/driver/core-switch.ts';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { searchClient } from '../../compose/driver/services/opensearch.ts';
import { withDatabase } from '../../compose/driver/services/postgres.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('lifecycle');
const docker = new EngineClient();
let ctx: StackContext;
let seeded: string;

const fingerprint = () => stackOk(['fingerprint'], stack.env);

/** Changes auth-secrets through a helper, as the engine sees it (owner and mode included). */
async function inAuthSecrets(script: string): Promise<void> {
  await runHelperScript({ script, mounts: [{ source: `${stack.project}_auth-secrets`, target: '/secrets' }], purpose: 'test change auth-secrets' });
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  ctx = await loadContext(stack.hossDir);
});

after(async () => {
  await runStack(['reset'], stack.env);
  // What reset keeps (backups) may belong to another uid: a helper removes it.
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('two fingerprints in a row are equal, and describe the seeded state', async () => {
  seeded = await fingerprint();
  assert.equal(await fingerprint(), seeded);
  const doc = JSON.parse(seeded);
  assert.equal(doc.version, '0.2.13');
  assert.equal(doc.postgres.databases.hoss_core.tables['public.objects'].rows, 100_000);
  assert.equal(doc.postgres.databases.hoss_auth.tables['public.users'].rows, 200);
  assert.equal(doc.opensearch['hoss-metadata-v1'].docs, 7000);
  assert.deepEqual(doc.opensearch['hoss-metadata-v1'].aliases, ['hoss-metadata']);
  assert.equal(doc.ldap.entries, 59);
  assert.deepEqual(doc.rabbitmq.queues.bucket_notifications, { auto_delete: false, durable: true, messages: 100 });
  assert.match(doc.volumes['auth-secrets'].tree['private.pem'], /^file 1001:1001 0600 /);
  assert.deepEqual(doc.volumes['ldap-vol0'].owners, ['911:911']);
  assert.ok(doc.config['.env'] && doc.config['opensearch/opensearch.yaml'] && doc.config['traefik.yaml']);
  assert.ok(doc.folders.DB_INIT_SCRIPTS.tree['10-create-databases.sh']);
});

test('seeding again gives the same fingerprint as seeding once', async () => {
  await stackOk(['seed'], stack.env);
  assert.equal(await fingerprint(), seeded);
});

test('a single row changes the hash of its table only', async () => {
  const before = await fingerprint();
  await withDatabase(ctx, 'hoss_core', (client) => client.query("UPDATE objects SET note = 'changed' WHERE id = 4242"));
  assert.deepEqual(changedKeys(before, await fingerprint()), ['postgres/databases/hoss_core/tables/public.objects/sha256']);
});

test('a single document changes the hash of its index only', async () => {
  const before = await fingerprint();
  const client = await searchClient(ctx);
  try {
    await client.update({ index: 'hoss-datasets', id: 'ds-000007', body: { doc: { quota: 1 } }, refresh: true } as never);
  } finally {
    await client.close();
  }
  assert.deepEqual(changedKeys(before, await fingerprint()), ['opensearch/hoss-datasets/sha256']);
});

const pemKeys = ['volumes/auth-secrets/sha256', 'volumes/auth-secrets/tree/private.pem'];

test('one byte of a file in a volume changes that volume', async () => {
  const before = await fingerprint();
  await inAuthSecrets("printf 'X' | dd of=/secrets/private.pem bs=1 seek=100 conv=notrunc 2>/dev/null");
  assert.deepEqual(changedKeys(before, await fingerprint()), pemKeys);
});

test('a file mode changes that volume', async () => {
  const before = await fingerprint();
  await inAuthSecrets('chmod 640 /secrets/private.pem');
  assert.deepEqual(changedKeys(before, await fingerprint()), pemKeys);
});

test('a file owner changes that volume', async () => {
  const before = await fingerprint();
  await inAuthSecrets('chown 0:0 /secrets/private.pem');
  assert.deepEqual(changedKeys(before, await fingerprint()), pemKeys);
});

test('the core writes only while its switch is on, keeping the balance total', async () => {
  const quiet = await readCoreLedger(ctx);
  await setCoreWriting(ctx, true);
  try {
    const deadline = Date.now() + 60_000;
    while ((await readCoreLedger(ctx)).transfers < quiet.transfers + 20) {
      assert.ok(Date.now() < deadline, 'the core made no transfers within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await setCoreWriting(ctx, false);
  }
  await new Promise((r) => setTimeout(r, 2000));
  const stopped = await readCoreLedger(ctx);
  assert.equal(stopped.total, quiet.total);
  const first = await fingerprint();
  assert.equal(await fingerprint(), first, 'the stack is quiet again once the switch is off');
  assert.deepEqual(
    changedKeys(seeded, first).filter((k) => k.startsWith('postgres/databases/hoss_core/')),
    [
      'postgres/databases/hoss_core/sequences/public.ledger_id_seq',
      'postgres/databases/hoss_core/tables/public.accounts/sha256',
      'postgres/databases/hoss_core/tables/public.ledger/rows',
      'postgres/databases/hoss_core/tables/public.ledger/sha256',
      'postgres/databases/hoss_core/tables/public.objects/sha256',
    ],
  );
});

test('reset removes containers, volumes, data and config, and keeps only the backups', async () => {
  const backups = join(ctx.backupRoot, 'backups');
  await runHelperScript({
    script: 'echo archive > /b/hoss-backup-test.tar.zst && chown 1234:1234 /b/hoss-backup-test.tar.zst',
    mounts: [{ source: backups, target: '/b' }],
    purpose: 'test backup file',
  });
  await stackOk(['reset'], stack.env);
  assert.deepEqual(await projectContainers(docker, stack.project), []);
  for (const volume of VOLUMES) assert.equal(await docker.inspectVolume(`${stack.project}_${volume}`), undefined, volume);
  assert.deepEqual(await readdir(stack.hossDir), ['backup']);
  assert.deepEqual(await readdir(join(stack.hossDir, 'backup')), ['backups']);
  assert.deepEqual(await readdir(backups), ['hoss-backup-test.tar.zst']);
  assert.equal(existsSync(join(stack.hossDir, '.env')), false);
  // Nothing left to remove: a second reset is a no-op that succeeds.
  await stackOk(['reset'], stack.env);
  assert.deepEqual(await readdir(backups), ['hoss-backup-test.tar.zst']);
});

test('a new installation seeded alike differs only in its secrets', async () => {
  // After reset, up writes a new .env: new passwords, a new LDAP admin hash.
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), ['config/.env', 'ldap/admin', 'ldap/config']);
});
