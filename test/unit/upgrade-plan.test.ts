// The pure parts of `upgrade`: version names, the .env lines a version
// switch changes, Compose's rendering read and compared service by
// service, the plan an operator reads, and the atomic .env rewrite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfile } from '../../src/config/profile.ts';
import { stackConfigFromEnv } from '../../src/config/stack-config.ts';
import { servicesOf, type RenderedServices } from '../../src/docker/compose-config.ts';
import { ConfigError, PreflightError, UsageError } from '../../src/errors.ts';
import { diffServices } from '../../src/core/upgrade/service-diff.ts';
import { describeUpgrade, planUpgrade, releaseNotes, targetVersion } from '../../src/core/upgrade/upgrade-plan.ts';
import { checkVersionName, switchEnvFile, versionEnvChanges } from '../../src/core/upgrade/version-switch.ts';

const SERVER = fileURLToPath(new URL('../../compose/server/', import.meta.url));
const env = {
  POSTGRES_USER: 'postgres',
  POSTGRES_PASSWORD: 'pw',
  POSTGRES_CORE_DB: 'hoss_core',
  POSTGRES_AUTH_DB: 'hoss_auth',
  HOSS_VERSION: '0.2.13',
  COMPOSE_FILE: `${SERVER}docker-compose.yaml:${SERVER}docker-compose.local.yaml`,
};

async function config(over: Record<string, string> = {}) {
  return stackConfigFromEnv(await loadProfile('hoss'), '/home/op/.hoss', { ...env, ...over }, '/home/op');
}

test('version names are what an image tag allows', () => {
  for (const good of ['0.3.0', '0.3.0-broken', 'v1_2', 'latest']) assert.equal(checkVersionName(good), good);
  for (const bad of ['', '../x', '0.3 0', '-1', 'a:b', 'x'.repeat(129)]) assert.throws(() => checkVersionName(bad), UsageError, bad);
});

test('a version switch changes the version variable and image tags that carry the old version, nothing else', () => {
  const changes = versionEnvChanges(
    { HOSS_VERSION: '0.2.13', CORE_IMAGE: 'registry.example/hoss-core:0.2.13', OTHER: 'x:0.2.130', BARE: '0.2.13', SPACED: 'a b:0.2.13', PASSWORD: 'secret' },
    'HOSS_VERSION', '0.2.13', '0.3.0',
  );
  assert.deepEqual(changes, { HOSS_VERSION: '0.3.0', CORE_IMAGE: 'registry.example/hoss-core:0.3.0' });
});

test('compose config output is read as YAML, services by name', () => {
  const text = 'services:\n  core:\n    environment:\n      HOSS_VERSION: 0.2.13\n    image: hoss-local/postgres:local\nversion: "3.7"\n';
  assert.deepEqual(servicesOf(text), { core: { environment: { HOSS_VERSION: '0.2.13' }, image: 'hoss-local/postgres:local' } });
  assert.throws(() => servicesOf('version: "3.7"\n'), /no services/);
  assert.throws(() => servicesOf('services: [\n'), /cannot read/);
});

test('service differences name the image first, then each changed setting; new and dropped services too', () => {
  const before: RenderedServices = {
    db: { image: 'postgres:13' },
    core: { image: 'hoss/core:0.2.13', environment: { HOSS_VERSION: '0.2.13', PGHOST: 'db' }, ports: ['80'] },
    old: { image: 'x' },
  };
  const after: RenderedServices = {
    db: { image: 'postgres:13' },
    core: { image: 'hoss/core:0.3.0', environment: { HOSS_VERSION: '0.3.0', PGHOST: 'db' }, ports: ['80', '81'] },
    worker: { image: 'hoss/worker:0.3.0' },
  };
  assert.deepEqual(diffServices(before, after), [
    { service: 'core', kind: 'changed', changes: ['image hoss/core:0.2.13 -> hoss/core:0.3.0', 'environment.HOSS_VERSION 0.2.13 -> 0.3.0', 'ports ["80"] -> ["80","81"]'] },
    { service: 'old', kind: 'removed', changes: [] },
    { service: 'worker', kind: 'added', changes: ['image hoss/worker:0.3.0'] },
  ]);
  assert.deepEqual(diffServices(before, before), []);
});

test('the plan shows versions, .env lines, changed and unchanged services and the release notes', async () => {
  const seen: Record<string, string>[] = [];
  const render = async (overrides: Record<string, string>): Promise<RenderedServices> => {
    seen.push(overrides);
    return { db: { image: 'postgres' }, core: { image: 'pg', environment: { HOSS_VERSION: overrides.HOSS_VERSION } } };
  };
  const plan = await planUpgrade(await config(), '0.3.0', render, {});
  assert.deepEqual(seen, [{ HOSS_VERSION: '0.2.13' }, { HOSS_VERSION: '0.3.0' }], 'both renderings name the version explicitly');
  assert.deepEqual(plan.servicesAfter, ['core', 'db']);
  const lines = describeUpgrade(plan);
  assert.equal(lines[1], 'running version 0.2.13, target version 0.3.0');
  assert.equal(lines[2], '.env: HOSS_VERSION 0.2.13 -> 0.3.0');
  assert.equal(lines[3], 'service core: environment.HOSS_VERSION 0.2.13 -> 0.3.0');
  assert.equal(lines[4], 'unchanged: db');
  assert.match(lines[5]!, /^release notes for 0\.3\.0: core migrates the hoss_core schema/);
});

test('the plan refuses a version variable exported in the environment, which Compose would prefer to .env', async () => {
  await assert.rejects(planUpgrade(await config(), '0.3.0', undefined, { HOSS_VERSION: '0.2.13' }), PreflightError);
});

test('without compose files the plan says the services are not known', async () => {
  const plan = await planUpgrade(await config({ COMPOSE_FILE: '' }), '0.3.0', async () => ({}), {});
  assert.equal(plan.services, undefined);
  assert.match(describeUpgrade(plan).join('\n'), /names no compose files/);
});

test('the target is --to, else the version file beside the compose files; a stack must say its version', async () => {
  assert.equal(await targetVersion(await config(), '0.3.0'), '0.3.0');
  assert.equal(await targetVersion(await config(), undefined), (await readFile(join(SERVER, 'VERSION'), 'utf8')).trim());
  await assert.rejects(targetVersion(await config({ COMPOSE_FILE: '' }), undefined), /--to VERSION/);
  assert.equal(await releaseNotes(await config(), 'no-such-release'), undefined);
  await assert.rejects(planUpgrade(await config({ HOSS_VERSION: '' }), '0.3.0', undefined, {}), ConfigError);
});

test('.env is switched atomically, keeping its mode, comments and every other line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'upgrade-env-'));
  try {
    const path = join(dir, '.env');
    await writeFile(path, '# secrets\nHOSS_VERSION=0.2.13\nPOSTGRES_PASSWORD=pw\n', { mode: 0o600 });
    const { before, after } = await switchEnvFile(path, { HOSS_VERSION: '0.3.0' });
    assert.equal(before, '# secrets\nHOSS_VERSION=0.2.13\nPOSTGRES_PASSWORD=pw\n');
    assert.equal(after, '# secrets\nHOSS_VERSION=0.3.0\nPOSTGRES_PASSWORD=pw\n');
    assert.equal(await readFile(path, 'utf8'), after);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
