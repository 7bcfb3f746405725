// The restore engine end to end on the fake engine, onto a fresh host and
// in place, from archives the backup engine wrote; and two Postgres
// instances of one profile through both engines.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runBackup } from '../../src/core/backup.ts';
import { runRestore } from '../../src/core/restore.ts';
import { ArchiveError } from '../../src/errors.ts';
import { assertCleanEngine, assertWritersCycled, readManifest } from '../support/engine-checks.ts';
import { hossStack, treeListing, twoPostgresStack, type FakeStack } from '../support/fake-stack.ts';

const exists = (p: string) => access(p).then(() => true, () => false);

/** What the restore must bring back: servers' contents, volumes and the config folder, file by file. */
async function snapshotOf(stack: FakeStack) {
  const volumes: Record<string, string[]> = {};
  for (const v of ['auth-secrets', 'ldap-vol0', 'ldap-vol1', 'rabbitmq-data']) volumes[v] = await treeListing(stack.volumePath(v));
  const pg = stack.postgres.get('db')!;
  return {
    databases: pg.userDatabases().map((d) => [d, pg.counts(d)]),
    roles: [...pg.roles.keys()].sort(),
    indices: stack.search.get('opensearch')!.counts(),
    volumes,
    config: await treeListing(stack.configDir, (p) => ['backup', 'data', '.hossadm-restore-unfinished'].includes(p.split('/')[0]!)),
  };
}

async function backedUp(t: TestContext) {
  const stack = await hossStack(t);
  const result = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  const saved = await snapshotOf(stack);
  stack.docker.events.length = 0;
  return { stack, archive: result.archive!, saved };
}

test('an in-place restore puts every member back with its instance and proves the fingerprints equal', async (t) => {
  const { stack, archive, saved } = await backedUp(t);
  // The stack moves on after the backup: rows, indices, files and a new database table change.
  const pg = stack.postgres.get('db')!;
  pg.databases.get('hoss_core')!.tables.get('public.cases')!.splice(0, 5);
  pg.databases.get('hoss_auth')!.tables.set('public.sessions', ['s1']);
  const search = stack.search.get('opensearch')!;
  search.indices.delete('attachments');
  search.addIndex('created-later', 3);
  await writeFile(join(stack.volumePath('auth-secrets'), 'core/app.yaml'), 'changed\n');
  await writeFile(join(stack.volumePath('rabbitmq-data'), 'stale-file'), 'must go\n');
  await rm(join(stack.volumePath('ldap-vol0'), 'ui'), { recursive: true });
  await writeFile(join(stack.configDir, 'traefik.yaml'), 'edited after the backup\n');
  assert.notDeepEqual(await snapshotOf(stack), saved);

  const result = await runRestore(stack.restoreDeps(), { archive, dryRun: false, forceVersion: false });
  assert.equal(result.situation, 'in-place');
  assert.deepEqual(result.differences, []);
  assert.deepEqual(result.warnings, []);
  assert.deepEqual(await snapshotOf(stack), saved, 'databases, roles, indices, volumes and config folder as archived');
  assertWritersCycled(stack, stack.docker.events);
  assert.ok(!(await exists(join(stack.backupRoot, '.db', 'hossadm-restore-postgres'))), 'dumps removed after the load');
  assert.deepEqual((await readdir(join(stack.backupRoot, '.opensearch'))), [], 'restored repository removed');
  await assertCleanEngine(stack);
});

test('a fresh-host restore rebuilds the stack from the archive alone and proves it', async (t) => {
  const { stack, archive, saved } = await backedUp(t);
  await mkdir(join(stack.root, 'kept'));
  const kept = join(stack.root, 'kept', basename(archive));
  await rename(archive, kept);
  await stack.wipe();
  assert.equal(stack.docker.containers.size, 0);

  const result = await runRestore(stack.restoreDeps(), { archive: kept, dryRun: false, forceVersion: false });
  assert.equal(result.situation, 'fresh');
  assert.deepEqual(result.differences, []);
  assert.deepEqual(await snapshotOf(stack), saved, 'owners, modes, links and times included');
  assert.deepEqual(stack.docker.events.filter((e) => e.startsWith('stop ')), [], 'nothing to stop on a fresh host');
  assert.ok(stack.docker.states().every((s) => s.endsWith(':running')));
  assert.ok(!(await exists(join(stack.root, 'init', 'zz-hossadm-restore.sh'))), 'the init script is removed once it ran');
  await assertCleanEngine(stack);
});

test('a damaged member is refused before any container is stopped or anything is written', async (t) => {
  const { stack, archive, saved } = await backedUp(t);
  const manifest = await readManifest(archive);
  const size = (await stat(archive)).size;
  const handle = await open(archive, 'r+');
  try {
    // Past the manifest and stack.env, inside the members' frames.
    const at = Math.floor(size * 0.6);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte[0] = byte[0]! ^ 0xff;
    await handle.write(byte, 0, 1, at);
  } finally {
    await handle.close();
  }
  const helpersBefore = stack.docker.helpers.length;
  const execsBefore = stack.docker.execs.length;
  const pg = stack.postgres.get('db')!;
  pg.databases.get('hoss_core')!.tables.get('public.cases')!.push('after the backup');
  const live = await snapshotOf(stack);

  await assert.rejects(runRestore(stack.restoreDeps(), { archive, dryRun: false, forceVersion: false }), ArchiveError);
  assert.deepEqual(stack.docker.events, [], 'no container stopped');
  assert.equal(stack.docker.helpers.length, helpersBefore, 'no helper ran');
  assert.equal(stack.docker.execs.length, execsBefore, 'nothing ran in a container');
  assert.deepEqual(await snapshotOf(stack), live, 'the live stack is as it was');
  assert.ok(!(await exists(join(stack.configDir, '.hossadm-restore-unfinished'))));
  assert.ok(manifest.members.length > 3 && saved.roles.length > 0);
});

test('two Postgres instances in one profile back up and restore without their members colliding', async (t) => {
  const stack = await twoPostgresStack(t);
  const main = stack.postgres.get('main-db')!;
  const audit = stack.postgres.get('audit-db')!;
  const saved = { main: main.counts('app'), audit: audit.counts('app') };
  assert.notDeepEqual(saved.main, saved.audit);

  const result = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  const manifest = await readManifest(result.archive!);
  assert.deepEqual(manifest.members.map((m) => `${m.component}:${m.name}`).filter((n) => !n.startsWith('config:')).sort(), [
    'audit:audit/app.dump', 'audit:audit/globals.sql', 'main:main/app.dump', 'main:main/globals.sql', 'stack:stack.env',
  ]);
  assert.deepEqual(manifest.components.main!.fingerprint, { app: saved.main });
  assert.deepEqual(manifest.components.audit!.fingerprint, { app: saved.audit });
  assert.deepEqual(stack.docker.events.filter((e) => e.startsWith('stop ')), [], 'both database services keep running, and web mounts none of the saved data');

  // In place: each server gets its own dump back, not the other's.
  main.databases.get('app')!.tables.set('public.orders', []);
  audit.databases.delete('app');
  audit.addDatabase('app', { 'public.other': 1 });
  const inPlace = await runRestore(stack.restoreDeps(), { archive: result.archive!, dryRun: false, forceVersion: false });
  assert.deepEqual(inPlace.differences, []);
  assert.deepEqual({ main: main.counts('app'), audit: audit.counts('app') }, saved);
  await assertCleanEngine(stack);

  // And onto a fresh host, through each service's own init script.
  await mkdir(join(stack.root, 'kept'));
  const kept = join(stack.root, 'kept', basename(result.archive!));
  await rename(result.archive!, kept);
  await stack.wipe();
  const fresh = await runRestore(stack.restoreDeps(), { archive: kept, dryRun: false, forceVersion: false });
  assert.equal(fresh.situation, 'fresh');
  assert.deepEqual(fresh.differences, []);
  assert.deepEqual({ main: stack.postgres.get('main-db')!.counts('app'), audit: stack.postgres.get('audit-db')!.counts('app') }, saved);
  await assertCleanEngine(stack);
});

// Each instance stages its dumps in <hostBackupDir>/hossadm-restore-<id>, so
// two instances whose services mount the same backup folder never overwrite
// each other's app.dump and globals.sql there.
test('two Postgres instances sharing one backup folder restore in place each into its own server', async (t) => {
  const stack = await twoPostgresStack(t, { sharedBackupFolder: true });
  const main = stack.postgres.get('main-db')!;
  const saved = main.counts('app');
  const result = await runBackup(await stack.backupDeps(), { mode: 'cold', codec: 'zstd', dryRun: false });
  main.databases.get('app')!.tables.set('public.orders', []);
  await runRestore(stack.restoreDeps(), { archive: result.archive!, dryRun: false, forceVersion: false });
  assert.deepEqual(main.counts('app'), saved);
});
