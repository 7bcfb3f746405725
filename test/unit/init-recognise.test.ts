// hossadm init's guesses from a project's containers, without an engine:
// kinds by image, labels over guesses, named volumes and writable folders
// as data, secrets referenced by name; and later runs finding the profile
// in the config folder.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chooseProfile } from '../../src/cli/options.ts';
import '../../src/components/index.ts';
import { validateProfile } from '../../src/config/profile.ts';
import type { MountFacts, ProjectFacts, ServiceFacts } from '../../src/core/init/facts.ts';
import { envValue } from '../../src/core/init/init.ts';
import { guessKind, idFrom, imageName, recognise } from '../../src/core/init/recognise.ts';

const bind = (source: string, destination: string, extra: Partial<MountFacts> = {}): MountFacts => ({
  type: 'bind',
  source,
  destination,
  readOnly: false,
  isDir: true,
  ...extra,
});
const volume = (source: string, destination: string): MountFacts => ({ type: 'volume', source, destination, readOnly: false });

function service(name: string, image: string, mounts: MountFacts[], more: Partial<ServiceFacts> = {}): ServiceFacts {
  return { service: name, container: `shop-${name}-1`, containerId: name, image, running: true, labels: {}, env: {}, command: [], mounts, ...more };
}

const shop: ProjectFacts = {
  project: 'shop',
  configFiles: ['/srv/shop/compose.yaml'],
  workingDir: '/srv/shop',
  notRunning: ['migrate'],
  composeProblem: undefined,
  services: [
    service(
      'ledger',
      'hoss-local/postgres:local',
      [
        volume('shop_pgdata', '/var/lib/postgresql/data'),
        bind('/srv/shop/pg-dumps', '/var/backups/pg'),
        bind('/srv/shop/pg-init', '/docker-entrypoint-initdb.d'),
      ],
      { env: { POSTGRES_USER: 'ledger', POSTGRES_PASSWORD: 's3cret pw', POSTGRES_DB: 'books' } },
    ),
    service('cache', 'redis:7-alpine', [volume('shop_cache-data', '/data')]),
    service('web', 'registry.example/acme/web:2.1', [
      volume('shop_assets', '/srv/assets'),
      volume('shop_journal', '/srv/journal'),
      bind('/srv/shop/media', '/srv/media'),
      bind('/srv/shop/media/thumbs', '/srv/thumbs'),
      bind('/srv/shop/nginx.conf', '/etc/nginx/nginx.conf', { readOnly: true, isDir: false }),
      bind('/var/run/docker.sock', '/var/run/docker.sock', { isDir: false }),
      volume('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', '/tmp/cache'),
    ]),
    service('worker', 'acme/worker', [volume('shop_journal', '/journal')], { labels: { 'hossadm.stop-during-backup': 'false' } }),
    service('proxy', 'traefik:3', [volume('shop_certs', '/certs')], { labels: { 'hossadm.skip': 'true' } }),
    service('blobs', 'minio/minio:latest', [volume('shop_blobs', '/data')]),
  ],
};

const options = {
  configDir: '/etc/hossadm/shop',
  helperImage: 'busybox',
  now: new Date('2025-01-02T03:04:05Z'),
  answers: { databases: { ledger: ['books', 'audit'] } },
};

test('images name their kinds; labels override', () => {
  assert.equal(imageName('registry.example:5000/acme/postgres:15@sha256:abc'), 'postgres');
  assert.equal(guessKind(service('a', 'postgis/postgis:16-3.4', [])), 'postgres');
  assert.equal(guessKind(service('a', 'opensearchproject/opensearch:2', [])), 'search-opensearch');
  assert.equal(guessKind(service('a', 'opensearchproject/opensearch-dashboards:2', [])), 'none');
  assert.equal(guessKind(service('a', 'docker.elastic.co/elasticsearch/elasticsearch:7.10.2', [])), 'search-elasticsearch');
  assert.equal(guessKind(service('a', 'cassandra:4.1', [])), 'cassandra');
  assert.equal(guessKind(service('a', 'valkey/valkey:8', [])), 'redis');
  assert.equal(guessKind(service('a', 'redis/redisinsight', [])), 'none');
  assert.equal(guessKind(service('a', 'minio/minio', [])), 's3');
  assert.equal(guessKind(service('a', 'acme/app', [], { labels: { 'hossadm.kind': 'postgres' } })), 'postgres');
  assert.equal(guessKind(service('a', 'postgres:16', [], { labels: { 'hossadm.kind': 'none' } })), 'none');
  const taken = new Set<string>();
  assert.deepEqual(
    ['Ledger_DB', 'ledger-db', '9lives', ''].map((n) => idFrom(n, taken)),
    ['ledger-db', 'ledger-db-2', 'lives', 'part'],
  );
});

test('a project no profile describes becomes a valid profile: kinds, volumes, folders, notes; secrets by name only', () => {
  const plan = recognise(shop, { ...options, kinds: ['folder', 'postgres', 'volumes'] });
  const profile = validateProfile(plan.profile);
  assert.equal(profile.name, 'shop');
  assert.equal(profile.defaultProject, 'shop');
  assert.equal(profile.configDirVariable, 'HOSSADM_CONFIG_DIR');
  assert.deepEqual(
    profile.components.map((c) => `${c.id}:${c.kind}`),
    ['config:folder', 'compose:folder', 'ledger:postgres', 'media:folder', 'volumes:volumes'],
  );
  assert.deepEqual(profile.components[2]!.config, {
    service: 'ledger',
    user: { env: 'POSTGRES_USER' },
    password: { env: 'POSTGRES_PASSWORD' },
    databases: [{ env: 'POSTGRES_DB' }, 'audit'],
    containerBackupDir: '/var/backups/pg',
    hostBackupDir: '/srv/shop/pg-dumps',
    initScriptsDir: '/srv/shop/pg-init',
  });
  assert.deepEqual(profile.components[1]!.config, { root: '/srv/shop', entries: ['compose.yaml'], required: [], frozen: false });
  assert.deepEqual(profile.components[3]!.config, { root: '/srv/shop/media', required: [], frozen: true });
  // Postgres's data volume is its kind's; redis without a redis kind and the S3 server are copied as files; the skipped service's volume is not.
  assert.deepEqual(profile.components[4]!.config, { volumes: ['assets', 'blobs', 'cache-data', 'journal'] });
  assert.deepEqual(plan.env, {
    POSTGRES_USER: 'ledger',
    POSTGRES_PASSWORD: 's3cret pw',
    POSTGRES_DB: 'books',
    COMPOSE_PROJECT_NAME: 'shop',
    COMPOSE_FILE: '/srv/shop/compose.yaml',
    HOSSADM_DATA_SERVICES: 'ledger,worker',
  });
  assert.deepEqual(plan.secrets, ['POSTGRES_PASSWORD']);
  assert.ok(!JSON.stringify(plan.profile).includes('s3cret'), 'no secret value in the profile');
  const notes = plan.notes.join('\n');
  for (const expected of [
    /proxy: skipped \(label hossadm\.skip=true\)/,
    /worker: keeps running during backups/,
    /cache: Redis .* no redis kind/,
    /blobs: an S3 server/,
    /read-only bind mount \/srv\/shop\/nginx\.conf/,
    /\/var\/run\/docker\.sock left out/,
    /anonymous volume at \/tmp\/cache/,
    /migrate: defined in the compose files but not running/,
  ]) {
    assert.match(notes, expected);
  }
});

test('with a redis kind registered, Redis gets its own instance and keeps running', () => {
  const plan = recognise(shop, { ...options, kinds: ['folder', 'postgres', 'volumes', 'redis'] });
  const components = plan.profile.components as { id: string; kind: string; config: Record<string, unknown> }[];
  assert.deepEqual(
    components.find((c) => c.kind === 'redis'),
    { id: 'cache', kind: 'redis', config: { service: 'cache', dataDir: '/data' } },
  );
  assert.deepEqual((components.find((c) => c.kind === 'volumes')!.config as { volumes: string[] }).volumes, ['assets', 'blobs', 'journal']);
  assert.equal(plan.env.HOSSADM_DATA_SERVICES, 'cache,ledger,worker');
});

test('a Postgres without a dump folder or init scripts folder is copied as files, and the note says what to add', () => {
  const bare: ProjectFacts = {
    ...shop,
    services: [service('db', 'postgres:16', [volume('shop_db', '/var/lib/postgresql/data')], { env: { POSTGRES_PASSWORD: 'x' } })],
  };
  const plan = recognise(bare, { ...options, kinds: ['folder', 'postgres', 'volumes'] });
  const components = plan.profile.components as { kind: string; config: unknown }[];
  assert.deepEqual(
    components.map((c) => c.kind),
    ['folder', 'folder', 'volumes'],
  );
  assert.deepEqual(components[2]!.config, { volumes: ['db'] });
  assert.match(plan.notes.join('\n'), /db: Postgres .* without a writable bind-mounted folder for dumps and a bind-mounted \/docker-entrypoint-initdb\.d/);
  assert.equal(plan.env.POSTGRES_PASSWORD, undefined, 'a secret nothing references is not copied');
});

test('.env values are quoted only when Compose needs it', () => {
  assert.equal(envValue('plain-1.2/x'), 'plain-1.2/x');
  assert.equal(envValue('two words'), '"two words"');
  assert.equal(envValue('a"b\\c#d'), '"a\\"b\\\\c#d"');
});

test('a hossadm-profile.json in --config-dir is the profile unless one is named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hossadm-init-unit-'));
  try {
    const plan = recognise(shop, { ...options, configDir: dir, kinds: ['folder', 'postgres', 'volumes'] });
    const defaults = { profile: 'hoss', json: false, quiet: true, yes: true };
    assert.equal((await chooseProfile({ ...defaults, configDir: dir }, false)).origin.kind, 'named', 'no file: the default profile');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'hossadm-profile.json'), JSON.stringify(plan.profile));
    const found = await chooseProfile({ ...defaults, configDir: dir }, false);
    assert.deepEqual(found.origin, { kind: 'file', path: join(dir, 'hossadm-profile.json') });
    assert.equal(found.profile.name, 'shop');
    assert.equal((await chooseProfile({ ...defaults, configDir: dir }, true)).profile.name, 'hoss', '--profile NAME still wins');
    await writeFile(join(dir, 'hossadm-profile.json'), '{"name": "broken"}');
    await assert.rejects(chooseProfile({ ...defaults, configDir: dir }, false), (e: Error) => e.message.startsWith(join(dir, 'hossadm-profile.json')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
