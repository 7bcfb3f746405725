import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnv, updateEnvText } from '../../src/config/env-file.ts';
import { loadProfile } from '../../src/config/profile.ts';
import { resolveConfigDir, stackConfigFromEnv } from '../../src/config/stack-config.ts';
import { ConfigError } from '../../src/errors.ts';

const env = {
  POSTGRES_USER: 'postgres',
  POSTGRES_PASSWORD: 'pw',
  POSTGRES_CORE_DB: 'hoss_core',
  POSTGRES_AUTH_DB: 'hoss_auth',
  DB_ROOT: '/srv/db',
  DB_INIT_SCRIPTS: '/srv/init',
  HOSS_VERSION: '0.2.13',
};

test('.env parsing follows the compose dialect', () => {
  const parsed = parseEnv('# c\nA=1\nexport B="two words"\nC=\'x y\'\nD=plain # comment\nE=\n');
  assert.deepEqual(parsed, { A: '1', B: 'two words', C: 'x y', D: 'plain', E: '' });
  assert.throws(() => parseEnv('A=1\nnot a line\n', 'my.env'), (e: unknown) => e instanceof ConfigError && /my.env:2/.test(e.message));
});

test('.env rewrite keeps comments and order, appends new keys', () => {
  assert.equal(updateEnvText('# keep\nA=1\nB=2\n', { B: '3', C: '4' }), '# keep\nA=1\nB=3\nC=4\n');
});

test('stack config resolves names from the profile and .env, never literals', async () => {
  const profile = await loadProfile('hoss');
  const config = stackConfigFromEnv(profile, '/home/op/.hoss', env, '/home/op');
  assert.equal(config.project, 'server');
  assert.equal(config.backupRoot, '/home/op/.hoss/backup');
  assert.equal(config.stagingDir, '/home/op/.hoss/backup/.current');
  assert.deepEqual(config.components.map((c) => `${c.id}:${c.kind}`), ['config:folder', 'postgres:postgres', 'opensearch:search-snapshot', 'volumes:volumes']);
  const plan = (id: string) => config.components.find((c) => c.id === id)!.planBackup(config).join('\n');
  assert.match(plan('postgres'), /of hoss_core .*\n.*of hoss_auth /);
  assert.match(plan('volumes'), /server_auth-secrets[\s\S]*server_ldap-vol0[\s\S]*server_ldap-vol1[\s\S]*server_rabbitmq-data/);
  const paths = Object.fromEntries(config.components.flatMap((c) => c.hostPaths()).map((p) => [p.what, p.path]));
  assert.equal(paths['the postgres backup folder'], '/home/op/.hoss/backup/.db');
  assert.equal(paths['the opensearch snapshot folder'], '/home/op/.hoss/backup/.opensearch');
  assert.deepEqual(config.dataServices, ['db', 'opensearch']);
  assert.equal(config.stackVersion, '0.2.13');

  const custom = stackConfigFromEnv(profile, '/c', { ...env, COMPOSE_PROJECT_NAME: 'other', BACKUP_ROOT: '/b', HOSSADM_VOLUMES: 'a, b' }, '/h');
  assert.match(custom.components.find((c) => c.id === 'volumes')!.planBackup(custom).join('\n'), /^copy volume other_a .*\ncopy volume other_b /);
  assert.equal(custom.backupsDir, '/b/backups');
});

test('a missing or bad setting names the variable and the file', async () => {
  const profile = await loadProfile('hoss');
  const { POSTGRES_PASSWORD: _, ...withoutPassword } = env;
  assert.throws(() => stackConfigFromEnv(profile, '/c', withoutPassword, '/h'), /\/c\/\.env does not set POSTGRES_PASSWORD/);
  assert.throws(() => stackConfigFromEnv(profile, '/c', { ...env, BACKUP_ROOT: 'relative' }, '/h'), /BACKUP_ROOT must be an absolute path/);
  assert.throws(() => stackConfigFromEnv(profile, '/c', { ...env, COMPOSE_PROJECT_NAME: 'Bad Name' }, '/h'), /not a valid compose project name/);
});

test('config folder: --config-dir, then HOSS_DIR, then ~/.hoss', async () => {
  const profile = await loadProfile('hoss');
  assert.equal(resolveConfigDir(profile, { configDir: '/x', environment: { HOSS_DIR: '/y' }, home: '/h' }), '/x');
  assert.equal(resolveConfigDir(profile, { environment: { HOSS_DIR: '/y' }, home: '/h' }), '/y');
  assert.equal(resolveConfigDir(profile, { environment: {}, home: '/h' }), '/h/.hoss');
  await assert.rejects(loadProfile('../etc'), /not a plain name/);
  await assert.rejects(loadProfile('nope'), /unknown stack profile/);
});
