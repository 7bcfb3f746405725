// The backup engine end to end on the fake engine: real helper scripts,
// real FIFOs, real archives; in-memory Postgres and OpenSearch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runBackup } from '../../src/core/backup.ts';
import { FORMAT_VERSION, STACK_ENV_MEMBER } from '../../src/core/manifest.ts';
import { OperationError, UsageError } from '../../src/errors.ts';
import { assertCleanEngine, assertWritersCycled, readManifest } from '../support/engine-checks.ts';
import { hossStack, PASSWORD } from '../support/fake-stack.ts';

const exists = (p: string) => access(p).then(() => true, () => false);

test('a cold backup freezing per stack stops exactly the writers, and writes a format-2 archive of every instance under its id', async (t) => {
  const stack = await hossStack(t);
  const pg = stack.postgres.get('db')!;
  const search = stack.search.get('opensearch')!;
  const before = { core: pg.counts('hoss_core'), auth: pg.counts('hoss_auth'), indices: search.counts() };
  // Writers running again write at once; the archive must still be the moment of the freeze.
  stack.docker.onStateChange.push((c) => {
    if (c.info.service === 'core' && c.info.state === 'running') pg.databases.get('hoss_core')!.tables.get('public.cases')!.push('written after the freeze');
  });

  const deps = await stack.backupDeps();
  const result = await runBackup(deps, { mode: 'cold', freeze: 'stack', codec: 'zstd', dryRun: false });
  assert.ok(result.archive && (await exists(result.archive)));
  const manifest = await readManifest(result.archive);

  assert.equal(manifest.formatVersion, FORMAT_VERSION);
  assert.equal(manifest.formatVersion, 2);
  assert.equal(manifest.profile, 'hoss');
  assert.equal(manifest.omitted, undefined);
  assert.deepEqual(manifest.members.map((m) => m.name).sort(), [
    'config/tree.tar', 'opensearch/repository.tar', 'postgres/globals.sql', 'postgres/hoss_auth.dump', 'postgres/hoss_core.dump',
    STACK_ENV_MEMBER, 'volumes/auth-secrets.tar', 'volumes/ldap-vol0.tar', 'volumes/ldap-vol1.tar', 'volumes/rabbitmq-data.tar',
  ]);
  for (const m of manifest.members) if (m.name !== STACK_ENV_MEMBER) assert.ok(m.name.startsWith(`${m.component}/`), `${m.name} is under ${m.component}/`);

  assert.deepEqual(Object.keys(manifest.components).sort(), ['config', 'opensearch', 'postgres', 'volumes']);
  for (const [id, record] of Object.entries(manifest.components)) {
    assert.deepEqual(Object.keys(record).sort(), ['details', 'fingerprint', 'kind', 'live', 'versions'], id);
    assert.equal(record.live, false, `${id}: a cold backup copies nothing live`);
  }
  assert.equal(manifest.components.config!.kind, 'folder');
  assert.equal(manifest.components.volumes!.kind, 'volumes');
  assert.equal(manifest.components.postgres!.kind, 'postgres');
  assert.equal(manifest.components.opensearch!.kind, 'search-snapshot');
  assert.deepEqual(manifest.components.postgres!.versions, { postgresServer: '16.4', pgDump: '16.4' });
  assert.deepEqual(manifest.components.opensearch!.versions, { opensearch: '2.19.1' });
  assert.deepEqual(manifest.components.postgres!.fingerprint, { hoss_core: before.core, hoss_auth: before.auth }, 'row counts of the frozen snapshot');
  assert.deepEqual(manifest.components.opensearch!.fingerprint, { indices: before.indices });
  assert.deepEqual(manifest.components.opensearch!.details.indices, ['attachments', 'cases']);
  assert.deepEqual(Object.keys(manifest.components.volumes!.fingerprint).sort(), ['auth-secrets', 'ldap-vol0', 'ldap-vol1', 'rabbitmq-data']);
  assert.ok((manifest.components.config!.fingerprint.config?.entries ?? 0) > 5);
  assert.equal(pg.counts('hoss_core')['public.cases'], before.core['public.cases']! + 1, 'the writer did write after the freeze');

  assert.deepEqual(manifest.consistency.stopped.map((s) => s.service).sort(), stack.writers());
  assert.equal(manifest.consistency.freeze, 'stack');
  assert.deepEqual(manifest.consistency.windows?.map((w) => w.services.sort()), [stack.writers()], 'one window for every writer');
  assertWritersCycled(stack, stack.docker.events);
  assert.ok(!(await exists(deps.config.stagingDir)), 'staging removed');
  assert.deepEqual((await readdir(join(stack.backupRoot, '.opensearch'))).filter((n) => n.startsWith('hossadm-')), [], 'snapshot folder removed');
  await assertCleanEngine(stack);
  assert.ok(!result.plan.join('\n').includes(PASSWORD));
});

test('a failure in one instance\'s finish aborts every task: no archive, no staging, no helpers, writers running', async (t) => {
  const stack = await hossStack(t);
  stack.postgres.get('db')!.failDumpOf = 'hoss_auth';
  const deps = await stack.backupDeps();
  await assert.rejects(runBackup(deps, { mode: 'cold', freeze: 'stack', codec: 'zstd', dryRun: false }), (e: unknown) => e instanceof OperationError && /pg_dump of "hoss_auth" failed/.test(e.message));
  assert.deepEqual(await readdir(deps.config.backupsDir), [], 'no archive, partial or whole');
  assert.ok(!(await exists(deps.config.stagingDir)), 'no staging');
  assertWritersCycled(stack, stack.docker.events);
  // The search instance never reached its finish: its abort undid what its pre-flight and freeze made.
  const search = stack.search.get('opensearch')!;
  assert.ok(search.opened > 0);
  assert.deepEqual((await readdir(join(stack.backupRoot, '.opensearch'))).filter((n) => n.startsWith('hossadm-')), [], 'snapshot folder removed by abort');
  const runIds = new Set(stack.docker.helpers.map((h) => h.runId));
  assert.equal(runIds.size, 1);
  assert.ok(stack.docker.removeHelpersCalls.some((c) => c.runId === [...runIds][0]), 'the run\'s helpers were swept by run id');
  await assertCleanEngine(stack);
});

test('backup --without leaves an instance out, untouched, and the manifest says so', async (t) => {
  const stack = await hossStack(t);
  const deps = await stack.backupDeps();
  const result = await runBackup(deps, { mode: 'cold', codec: 'gzip', dryRun: false, without: ['opensearch'] });
  const manifest = await readManifest(result.archive!);
  assert.deepEqual(manifest.omitted, ['opensearch']);
  assert.equal(manifest.components.opensearch, undefined);
  assert.deepEqual(manifest.members.filter((m) => m.component === 'opensearch' || m.name.startsWith('opensearch/')), []);
  assert.deepEqual(Object.keys(manifest.components).sort(), ['config', 'postgres', 'volumes']);
  assert.equal(stack.search.get('opensearch')!.opened, 0, 'the search engine was never asked anything');
  assert.ok(result.plan.some((l) => /left out on purpose: opensearch/.test(l)));
  await assertCleanEngine(stack);

  await assert.rejects(runBackup(deps, { mode: 'cold', codec: 'gzip', dryRun: false, without: ['nosuch'] }), UsageError);
});

test('a hot backup stops nothing and marks what it copied live', async (t) => {
  const stack = await hossStack(t);
  const result = await runBackup(await stack.backupDeps(), { mode: 'hot', codec: 'zstd', dryRun: false });
  const manifest = await readManifest(result.archive!);
  assert.deepEqual(stack.docker.events, []);
  assert.equal(manifest.components.volumes!.live, true);
  assert.equal(manifest.components.opensearch!.live, true);
  assert.equal(manifest.components.postgres!.live, false, 'a pg snapshot is consistent even hot');
  await assertCleanEngine(stack);
});
