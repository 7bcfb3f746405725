// The contract every registered kind keeps, checked on the fake engine. The
// table below has one entry per kind; a kind registered without an entry
// fails this suite, so no new kind skips it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeArchive } from '../../src/archive/archive-writer.ts';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { compareFingerprints, type BackupContext, type Component, type ComponentRecord } from '../../src/components/component.ts';
import { registeredKinds } from '../../src/components/index.ts';
import { validateProfile } from '../../src/config/profile.ts';
import type { StackConfig } from '../../src/config/stack-config.ts';
import { FORMAT_VERSION, parseManifest, type Manifest } from '../../src/core/manifest.ts';
import { Staging } from '../../src/core/staging.ts';
import { ConfigError } from '../../src/errors.ts';
import { fifosBelow } from '../support/engine-checks.ts';
import { FakeCassandra, serveCql } from '../support/fake-cassandra.ts';
import { FakeRedis, serveRedis } from '../support/fake-redis.ts';
import { FakeObjectStore, serveObjectStore } from '../support/fake-objectstore.ts';
import { buildStack, connected, fillTree, PASSWORD, treeListing, type FakeStack, type ServiceDef } from '../support/fake-stack.ts';

const ID = 'sample';

interface KindCase {
  /** The kind, when the entry's name is not the kind's (a second mode of one kind). */
  kind?: string;
  /** The kind's example settings, as a profile would hold them. */
  config: Record<string, unknown>;
  /** A setting and a value of the wrong type for it. */
  wrongType: [string, unknown];
  services: (root: string) => ServiceDef[];
  /** Data on the fake stack, and fakes the kind needs beyond those of ServiceDef. */
  fakeSetup?: (stack: FakeStack, t: TestContext) => Promise<void>;
  /** What a server still holds for the run (sessions, registrations, snapshot tags): must be nothing after abort. */
  leftovers: (stack: FakeStack) => Promise<unknown[]>;
}

const cassandraNodes = new WeakMap<FakeStack, Map<string, FakeCassandra>>();
const redisServers = new WeakMap<FakeStack, FakeRedis>();
const objectStores = new WeakMap<FakeStack, FakeObjectStore>();

const CASES: Record<string, KindCase> = {
  folder: {
    config: { root: '${STACK_DIR}/files', frozen: true },
    wrongType: ['frozen', 'yes'],
    services: () => [{ service: 'app' }],
    fakeSetup: (stack) => fillTree(join(stack.configDir, 'files'), 'files'),
    leftovers: async () => [],
  },
  volumes: {
    config: { volumes: ['data', 'cache'] },
    wrongType: ['volumes', 'data'],
    services: () => [{ service: 'app', volumes: { '/data': 'data', '/cache': 'cache' } }],
    fakeSetup: async (stack) => {
      await fillTree(stack.volumePath('data'), 'data');
      await fillTree(stack.volumePath('cache'), 'cache');
    },
    leftovers: async () => [],
  },
  postgres: {
    config: {
      service: 'db', user: { env: 'DB_USER' }, password: { env: 'DB_PASSWORD' }, databases: ['app', { env: 'DB_EXTRA' }],
      containerBackupDir: '/mnt/backup', hostBackupDir: '${BACKUP_ROOT}/.db',
    },
    wrongType: ['containerBackupDir', 5432],
    services: (root) => [
      {
        service: 'db',
        binds: { '/mnt/backup': join(root, 'stack', 'backup', '.db') },
        postgres: { user: 'admin', password: PASSWORD, seed: (pg) => { pg.addDatabase('app', { 'public.a': 3, 'x.b': 11 }); pg.addDatabase('extra', { 'public.c': 2 }); } },
      },
      { service: 'app' },
    ],
    leftovers: async (stack) => {
      const pg = stack.postgres.get('db')!;
      return [...(pg.openClients ? [`${pg.openClients} open clients`] : []), ...[...pg.snapshots.keys()].map((s) => `snapshot ${s}`)];
    },
  },
  'search-snapshot': {
    config: {
      flavour: 'elasticsearch', service: 'es', repository: 'hossadm-backup', containerRepoDir: '/mnt/snapshots',
      containerDataDir: '/usr/share/elasticsearch/data', hostRepoDir: '${BACKUP_ROOT}/.es',
    },
    wrongType: ['port', '9200'],
    services: (root) => [
      {
        service: 'es',
        binds: { '/mnt/snapshots': join(root, 'stack', 'backup', '.es'), '/usr/share/elasticsearch/data': join(root, 'es-data') },
        search: { pathRepo: '/mnt/snapshots', flavour: 'elasticsearch', seed: (s) => { s.addIndex('cases', 12); s.addIndex('alerts', 4); } },
      },
      { service: 'app' },
    ],
    leftovers: async (stack) => {
      const s = stack.search.get('es')!;
      return [...[...s.repositories.keys()].map((r) => `repository ${r}`), ...(s.openTransports ? [`${s.openTransports} open clients`] : [])];
    },
  },
  cassandra: {
    config: { services: ['cassandra'], keyspaces: ['thehive'], user: { env: 'DB_USER' }, password: { env: 'DB_PASSWORD' } },
    wrongType: ['port', 'ninety'],
    services: () => [{ service: 'cassandra', volumes: { '/var/lib/cassandra': 'cassandra-data' } }, { service: 'app' }],
    fakeSetup: async (stack, t) => {
      const node = new FakeCassandra(stack.docker, 'cassandra', { dataDir: '/var/lib/cassandra/data', user: 'admin', password: PASSWORD });
      await node.addTable('thehive', 'case', 25);
      await node.addTable('thehive', 'alert', 6);
      const nodes = new Map([['cassandra', node]]);
      cassandraNodes.set(stack, nodes);
      serveCql(t, stack.docker, nodes);
    },
    leftovers: async (stack) => {
      const node = cassandraNodes.get(stack)!.get('cassandra')!;
      return [...(await node.tags()).map((tag) => `snapshot tag ${tag}`), ...(node.openSessions ? [`${node.openSessions} open sessions`] : []), ...node.unknownCql];
    },
  },
  redis: {
    config: { service: 'redis', password: { env: 'DB_PASSWORD' }, dataDir: '/data' },
    wrongType: ['databases', 'sixteen'],
    services: () => [{ service: 'redis', volumes: { '/data': 'redis-data' } }, { service: 'app' }],
    fakeSetup: async (stack, t) => {
      const redis = new FakeRedis(stack.docker, 'redis', { password: PASSWORD });
      redis.set(0, 'cache:a', { type: 'string', value: Buffer.from([0, 255, 13, 10]) });
      redis.set(2, 'queue', { type: 'list', value: [Buffer.from('x'), Buffer.from('y')] }, Date.now() + 86_400_000);
      redisServers.set(stack, redis);
      await serveRedis(t, stack.docker, new Map([['redis', redis]]));
    },
    leftovers: async (stack) => {
      const redis = redisServers.get(stack)!;
      const left = (await readdir(redis.hostData())).filter((n) => n.startsWith('hossadm-'));
      return [...left, ...(redis.openConnections ? [`${redis.openConnections} open connections`] : []), ...redis.unknownCommands];
    },
  },
  objectstore: {
    config: { service: 'objectstore', accessKey: { env: 'DB_USER' }, secretKey: { env: 'DB_PASSWORD' } },
    wrongType: ['port', 'nine thousand'],
    services: () => [{ service: 'objectstore' }, { service: 'app' }],
    fakeSetup: async (stack) => {
      const store = new FakeObjectStore('admin', PASSWORD);
      store.addBucket('assets');
      store.put('assets', 'a/b.txt', 'hello', { contentType: 'text/plain', metadata: { m: '1' }, tags: { t: '2' } });
      store.put('assets', 'empty', '');
      objectStores.set(stack, store);
      serveObjectStore(stack, 'objectstore', store);
    },
    leftovers: async (stack) => {
      const store = objectStores.get(stack)!;
      return [...(store.openClients ? [`${store.openClients} open clients`] : []), ...[...store.pendingUploads.keys()].map((u) => `upload ${u}`)];
    },
  },
  'objectstore files': {
    kind: 'objectstore',
    config: { mode: 'files', service: 'objectstore', volume: 'objects', image: 'gnutar' },
    wrongType: ['volume', 7],
    services: () => [{ service: 'objectstore', volumes: { '/data': 'objects' } }, { service: 'app' }],
    fakeSetup: async (stack) => {
      stack.docker.images.add('gnutar');
      await fillTree(stack.volumePath('objects'), 'objects');
    },
    leftovers: async () => [],
  },
};

async function sampleStack(t: TestContext, kind: string, c: KindCase): Promise<{ stack: FakeStack; config: StackConfig; component: Component }> {
  const profile = validateProfile({
    name: 'contract', configDirVariable: 'STACK_DIR', defaultConfigDir: '~/stack', defaultProject: 'contract', versionVariable: 'STACK_VERSION',
    backupRootDefault: '${STACK_DIR}/backup', helperImage: 'busybox',
    components: [{ id: ID, kind, config: c.config }],
  });
  const stack = await buildStack(t, (root) => ({
    profile,
    project: 'contract',
    env: { COMPOSE_PROJECT_NAME: 'contract', DB_USER: 'admin', DB_PASSWORD: PASSWORD, DB_EXTRA: 'extra', STACK_VERSION: '1' },
    services: c.services(root),
  }));
  await c.fakeSetup?.(stack, t);
  const config = await stack.config();
  return { stack, config, component: connected(config.components[0]!, stack.connect) };
}

function backupContext(stack: FakeStack, config: StackConfig, runId: string): BackupContext {
  return {
    config, docker: stack.docker, reporter: stack.reporter, runId, signal: new AbortController().signal,
    containers: [...stack.docker.containers.values()].map((c) => c.info), staging: new Staging(config.stagingDir, 'zstd'), mode: 'cold',
  };
}

test('every registered kind has an entry in the contract table', () => {
  const missing = registeredKinds().map((k) => k.name).filter((name) => !(name in CASES));
  assert.deepEqual(missing, [], `kinds without a contract entry: ${missing.join(', ')}`);
});

for (const [name, c] of Object.entries(CASES)) {
  const kind = registeredKinds().find((k) => k.name === (c.kind ?? name));
  if (!kind) continue;

  test(`${name}: parse accepts the example and names the JSON path of an unknown key or a wrong type`, () => {
    const at = 'components[3].config';
    assert.doesNotThrow(() => kind.parse(structuredClone(c.config), at));
    assert.throws(() => kind.parse({ ...structuredClone(c.config), colour: 'blue' }, at), (e: unknown) => e instanceof ConfigError && e.message.includes(`"${at}.colour"`));
    const [key, value] = c.wrongType;
    assert.throws(() => kind.parse({ ...structuredClone(c.config), [key]: value }, at), (e: unknown) => e instanceof ConfigError && e.message.includes(`"${at}.${key}"`), `a wrong ${key}`);
    assert.throws(() => kind.parse('not an object', at), (e: unknown) => e instanceof ConfigError && e.message.includes(`"${at}"`));
  });

  test(`${name}: an instance plans, backs up under its id, and its record round-trips through a written manifest`, async (t) => {
    const { stack, config, component } = await sampleStack(t, kind.name, c);
    assert.equal(component.id, ID);
    assert.equal(component.kind, kind.name);
    const plan = component.planBackup(config);
    assert.ok(plan.length > 0 && plan.every((l) => l.trim().length > 0), 'plan lines');
    for (const line of plan) assert.ok(!line.includes(PASSWORD), `no password in "${line}"`);

    const ctx = backupContext(stack, config, 'contract-run');
    const facts = await component.preflightBackup(ctx);
    const task = component.backup(ctx);
    await ctx.staging.create();
    await task.prepare?.();
    await task.freeze?.();
    const record: ComponentRecord = { kind: component.kind, versions: facts.versions, ...(await task.finish()) };
    assert.ok(ctx.staging.members.length > 0, 'wrote members');
    for (const m of ctx.staging.members) {
      assert.ok(m.name.startsWith(`${ID}/`), `${m.name} is under ${ID}/`);
      assert.equal(m.component, ID);
    }
    assert.ok(Object.keys(record.fingerprint).length > 0, 'a fingerprint to prove a restore with');
    assert.ok(!JSON.stringify(record).includes(PASSWORD), 'no password in the record');

    const manifest: Manifest = {
      formatVersion: FORMAT_VERSION, tool: { name: 'hossadm', version: 'test' }, profile: 'contract', createdAt: new Date().toISOString(), project: 'contract',
      stackVersion: '1', codec: 'zstd', consistency: { mode: 'cold', stopped: [], windowSeconds: 0 }, engines: {},
      components: { [ID]: record }, members: ctx.staging.members.map((m) => ({ name: m.name, component: m.component, size: m.size, sha256: m.sha256 })),
    };
    const archive = join(stack.root, 'contract.tar.zst');
    await writeArchive({ finalPath: archive, codec: 'zstd', manifest, members: ctx.staging.members, mtime: new Date() });
    const read = parseManifest(JSON.stringify((await verifyArchive(archive)).manifest));
    assert.deepEqual(read.components[ID], record);

    assert.deepEqual(compareFingerprints(ID, record.fingerprint, read.components[ID]!.fingerprint), []);
    const changed = structuredClone(record.fingerprint);
    const group = Object.keys(changed).sort()[0]!;
    const key = Object.keys(changed[group]!).sort()[0]!;
    changed[group]![key]! += 1;
    assert.deepEqual(compareFingerprints(ID, record.fingerprint, changed), [{ component: ID, key: `${group}.${key}`, expected: record.fingerprint[group]![key], actual: record.fingerprint[group]![key]! + 1 }]);

    await ctx.staging.remove();
    assert.deepEqual([...stack.docker.liveHelpers.values()], []);
    assert.deepEqual(await c.leftovers(stack), []);
    assert.deepEqual(stack.docker.unhandledExecs, []);
  });

  for (const phase of ['prepare', 'freeze'] as const) {
    test(`${name}: abort after ${phase} leaves no helpers, no temp files and nothing on its servers`, async (t) => {
      const { stack, config, component } = await sampleStack(t, kind.name, c);
      const ctx = backupContext(stack, config, `abort-${phase}`);
      // The engine makes BACKUP_ROOT and the staging folder, and removes the latter itself.
      await ctx.staging.create();
      const before = await treeListing(stack.root, (p) => p.startsWith('stack/backup/.current'));
      const task = component.backup(ctx);
      await component.preflightBackup(ctx);
      await task.prepare?.();
      if (phase === 'freeze') await task.freeze?.();
      await task.abort?.();
      await ctx.staging.remove();
      assert.deepEqual([...stack.docker.liveHelpers.values()].map((h) => h.purpose), [], 'no helper left');
      assert.deepEqual(await fifosBelow(stack.root), [], 'no pipe left');
      assert.deepEqual(await treeListing(stack.root, (p) => p.startsWith('stack/backup/.current')), before, 'the host as before: no temp file, no snapshot folder');
      assert.deepEqual(await c.leftovers(stack), []);
      assert.deepEqual(stack.docker.unhandledExecs, []);
    });
  }
}
