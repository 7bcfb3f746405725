// hossadm init on a Compose project that no profile describes: its own
// service names, a Postgres with two databases, a Redis, named volumes and a
// bind-mounted folder. init writes the profile and .env; backup; then the
// disaster (compose down -v, every data folder and the .env gone; the backups,
// the compose file and the reviewed profile kept); restore on the "fresh
// host"; the fingerprint this test computes
// (row counts and sha256 of every table, Redis keys and values, the trees
// of the volumes and the folder) is identical.
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { runCompose } from '../../src/docker/compose-cli.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { hossadm, hossadmOk } from '../integration/hossadm-support.ts';

const docker = new EngineClient();
const project = `tinit${process.pid}`;
const root = await mkdtemp(join(tmpdir(), 'hossadm-init-'));
const app = join(root, 'app');
const conf = join(root, 'conf');
const backups = join(root, 'backups');
const composeFile = join(app, 'compose.yaml');
const emptyEnv = join(root, 'empty.env');
const PASSWORD = 'ledger-pw-7f3a9c';
const withRedis = await docker.imageExists('hoss-local/redis:local');

const COMPOSE = `
services:
  ledger:
    image: hoss-local/postgres:local
    environment:
      POSTGRES_USER: ledger
      POSTGRES_PASSWORD: ${PASSWORD}
      POSTGRES_DB: books
    volumes:
      - pgdata:/var/lib/postgresql/data
      - ./ledger-dumps:/var/backups/pg
      - ./ledger-init:/docker-entrypoint-initdb.d
    healthcheck:
      test: ["CMD", "pg_isready", "-U", "ledger", "-d", "books"]
      interval: 2s
      retries: 60
${
  withRedis
    ? `  cache:
    image: hoss-local/redis:local
    command: ["redis-server", "--appendonly", "yes"]
    volumes:
      - cachedata:/data
`
    : ''
}  shop:
    image: hoss-local/busybox:local
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    volumes:
      - assets:/srv/assets
      - journal:/srv/journal
      - ./media:/srv/media
volumes:
  pgdata:
  assets:
  journal:
${withRedis ? '  cachedata:\n' : ''}`;

const compose = (args: string[]) => runCompose({ project, files: [composeFile], envFile: emptyEnv, env: process.env }, args, { echo: () => undefined });

async function container(service: string): Promise<string> {
  const found = (await projectContainers(docker, project)).find((c) => c.service === service && c.state === 'running');
  if (!found) throw new Error(`service ${service} does not run`);
  return found.id;
}

async function execOk(service: string, argv: string[], env: Record<string, string> = {}): Promise<string> {
  const result = await docker.exec(await container(service), argv, { env });
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} in ${service} exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout;
}

const psql = (database: string, sql: string) =>
  execOk('ledger', ['psql', '-v', 'ON_ERROR_STOP=1', '-At', '-U', 'ledger', '-d', database, '-c', sql], { PGPASSWORD: PASSWORD });
const redis = (...args: string[]) => execOk('cache', ['redis-cli', ...args]);

async function waitHealthy(): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const info = await docker.inspectContainer(await container('ledger').catch(() => 'none')).catch(() => undefined);
    if (info?.State.Health?.Status === 'healthy') return;
    if (Date.now() > deadline) throw new Error('ledger did not become healthy');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

const TREE = `cd /t && find . | sort | while IFS= read -r f; do
  if [ -L "$f" ]; then echo "$f link $(stat -c '%u:%g' "$f") -> $(readlink "$f")";
  elif [ -d "$f" ]; then echo "$f dir $(stat -c '%u:%g %a' "$f")";
  else echo "$f file $(stat -c '%u:%g %a %s' "$f") $(sha256sum < "$f" | cut -c1-16)"; fi
done`;

const tree = (source: string) => runHelperScript({ script: TREE, mounts: [{ source, target: '/t', readOnly: true }], purpose: 'test list tree' });

/** Everything the project holds, computed here, independently of hossadm's own proof. */
async function fingerprint(): Promise<Record<string, unknown>> {
  const tables: Record<string, string> = {};
  for (const [database, table] of [
    ['books', 'entries'],
    ['books', 'accounts'],
    ['audit', 'events'],
  ] as const) {
    tables[`${database}.${table}`] = (
      await psql(database, `select count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from ${table} t`)
    ).trim();
  }
  const print: Record<string, unknown> = { tables };
  if (withRedis) {
    const keys = (await redis('--scan')).split('\n').filter(Boolean).sort();
    const values: Record<string, string> = {};
    for (const key of keys) {
      const type = (await redis('TYPE', key)).trim();
      values[key] =
        `${type} ${type === 'hash' ? (await redis('HGETALL', key)).trim() : (await redis('GET', key)).trim()} ttl=${Number((await redis('TTL', key)).trim()) > 0 ? 'set' : 'none'}`;
    }
    print.redis = values;
  }
  print.assets = await tree(`${project}_assets`);
  print.journal = await tree(`${project}_journal`);
  print.media = await tree(join(app, 'media'));
  return print;
}

before(async () => {
  await mkdir(join(app, 'media', 'photos'), { recursive: true });
  await mkdir(join(app, 'ledger-dumps'), { recursive: true });
  await mkdir(join(app, 'ledger-init'), { recursive: true });
  await writeFile(composeFile, COMPOSE);
  await writeFile(emptyEnv, '');
  await writeFile(join(app, 'media', 'photos', 'cat.jpg'), Buffer.alloc(70_000, 7));
  await writeFile(join(app, 'media', 'index.html'), '<h1>shop</h1>\n');
  await compose(['up', '-d']);
  await waitHealthy();
  await psql(
    'books',
    'create table accounts (id int primary key, owner text); create table entries (id serial primary key, account int references accounts, cents bigint, memo text)',
  );
  await psql(
    'books',
    "insert into accounts select g, 'owner ' || g from generate_series(1, 50) g; insert into entries (account, cents, memo) select 1 + g % 50, g * 7, 'memo ' || g from generate_series(1, 2000) g",
  );
  await psql('postgres', 'create database audit owner ledger');
  await psql('audit', "create table events (id int, what text); insert into events select g, 'event ' || g from generate_series(1, 300) g");
  if (withRedis) {
    for (let i = 0; i < 20; i++) await redis('SET', `sku:${i}`, `price ${i * 3}`);
    await redis('HSET', 'cart:7', 'sku:1', '2', 'sku:4', '1');
    await redis('SET', 'session:x', 'alive', 'EX', '86400');
  }
  await execOk('shop', [
    'sh',
    '-c',
    'set -e; mkdir -p /srv/assets/css; printf "body{}" > /srv/assets/css/site.css; dd if=/dev/urandom of=/srv/assets/logo.bin bs=1k count=300 2>/dev/null; chown -R 1000:1000 /srv/assets; printf "day1\\n" > /srv/journal/log; chmod 600 /srv/journal/log; printf "upload" > /srv/media/upload.txt; chown 1000:1000 /srv/media/upload.txt',
  ]);
});

after(async () => {
  await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
  // Files the containers made belong to their users; a helper removes them.
  await runHelperScript({ script: 'rm -rf /r/*', mounts: [{ source: root, target: '/r' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

let saved: Record<string, unknown>;
let archive: string;

test('init reads the running project and writes a profile and a 0600 .env, printing no secret', async () => {
  const dry = await hossadmOk(['init', '--project', project, '--config-dir', conf, '--backup-root', backups, '--dry-run'], {});
  assert.match(dry.stdout, /"kind": "postgres"/);
  await assert.rejects(stat(conf), 'a dry run writes nothing');
  const run = await hossadmOk(['init', '--project', project, '--config-dir', conf, '--backup-root', backups], {});
  for (const out of [dry.stdout, dry.stderr, run.stdout, run.stderr]) assert.ok(!out.includes(PASSWORD), 'the password is never printed');
  const profile = JSON.parse(await readFile(join(conf, 'hossadm-profile.json'), 'utf8')) as {
    components: { id: string; kind: string; config: Record<string, unknown> }[];
  };
  const kinds = profile.components.map((c) => `${c.id}:${c.kind}`);
  assert.deepEqual(
    kinds.filter((k) => !k.endsWith(':redis')),
    ['config:folder', 'compose:folder', 'ledger:postgres', 'media:folder', 'volumes:volumes'],
  );
  const postgres = profile.components.find((c) => c.kind === 'postgres')!.config;
  assert.deepEqual(postgres.databases, ['audit', { env: 'POSTGRES_DB' }]);
  assert.deepEqual(postgres.password, { env: 'POSTGRES_PASSWORD' });
  const redisKind = kinds.includes('cache:redis');
  const volumes = profile.components.find((c) => c.kind === 'volumes')!.config.volumes as string[];
  assert.deepEqual(volumes, ['assets', ...(withRedis && !redisKind ? ['cachedata'] : []), 'journal']);
  const env = await readFile(join(conf, '.env'), 'utf8');
  assert.equal((await stat(join(conf, '.env'))).mode & 0o777, 0o600);
  assert.match(env, new RegExp(`^POSTGRES_PASSWORD=${PASSWORD}$`, 'm'));
  assert.match(env, new RegExp(`^COMPOSE_PROJECT_NAME=${project}$`, 'm'));
  assert.match(env, new RegExp(`^COMPOSE_FILE=${composeFile}$`, 'm'));
  assert.match(env, /^HOSSADM_DATA_SERVICES=/m);
  const again = await hossadm(['init', '--project', project, '--config-dir', conf], {});
  assert.equal(again.code, 6, 'an existing profile is not replaced without --force');
});

test("backup with the folder's own profile, then the disaster, then a fresh-host restore: the same fingerprint", async () => {
  saved = await fingerprint();
  const run = await hossadmOk(['--config-dir', conf, 'backup', '--yes', '--json'], {});
  archive = (JSON.parse(run.stdout) as { archive: string }).archive;
  assert.ok(archive.startsWith(join(backups, 'backups')), archive);
  assert.ok(!run.stdout.includes(PASSWORD) && !run.stderr.includes(PASSWORD), 'no secret in the output');
  assert.deepEqual(await fingerprint(), saved, 'a backup changes nothing');

  // The disaster: containers, volumes, every data folder and the .env gone; the backups are left, and what an
  // operator keeps in version control: the compose file and the reviewed profile.
  await compose(['down', '-v']);
  await runHelperScript({
    script: 'rm -rf /r/app/media /r/app/ledger-dumps /r/app/ledger-init /r/conf/.env',
    mounts: [{ source: root, target: '/r' }],
    purpose: 'test disaster',
  });
  assert.deepEqual(await readdir(conf), ['hossadm-profile.json']);
  assert.deepEqual(await readdir(app), ['compose.yaml']);

  const restored = await hossadm(['--config-dir', conf, 'restore', '--yes', archive], {});
  assert.equal(restored.code, 0, restored.stderr.slice(-4000));
  assert.ok(!restored.stdout.includes(PASSWORD) && !restored.stderr.includes(PASSWORD), 'no secret in the output');
  await waitHealthy();
  assert.deepEqual(await fingerprint(), saved);
  assert.equal(await readFile(composeFile, 'utf8'), COMPOSE, 'the compose file is as it was');
});
