// Relocating an archived .env for a restore test: own project, own folders,
// the compose files kept, the operator's start command dropped, and a refusal
// when a path would still point into the live stack.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnv, updateEnvText } from '../../src/config/env-file.ts';
import { loadProfile } from '../../src/config/profile.ts';
import { stackConfigFromEnv } from '../../src/config/stack-config.ts';
import { assertRelocated, relocateEnv, type Relocation } from '../../src/core/relocate.ts';
import { PreflightError } from '../../src/errors.ts';

const ARCHIVED = `# live stack
HOSS_VERSION=0.2.13
HOSS_DIR=/home/op/.hoss
COMPOSE_PROJECT_NAME=server
COMPOSE_FILE=/home/op/.hoss/compose/docker-compose.yaml:/srv/hoss/docker-compose.local.yaml
POSTGRES_USER=postgres
POSTGRES_PASSWORD=secret
POSTGRES_CORE_DB=hoss_core
POSTGRES_AUTH_DB=hoss_auth
DB_ROOT=/home/op/.hoss/data/db
DB_INIT_SCRIPTS=/home/op/.hoss/core/db-init-scripts
BACKUP_ROOT=/home/op/.hoss/backup
SNAPSHOTS=/home/op/.hoss/backup/extra
HOSSADM_UP_COMMAND=make up DETACH=true
HOSSADM_UP_WORKDIR=/srv/hoss
HOSS_DIRECTORY_LOOKALIKE=/home/op/.hoss-other/x
`;
const TO: Relocation = { project: 'hossadm-verify-abc123', configDir: '/t/v/config', backupRoot: '/t/v/backup', root: '/t/v' };

test('the relocated .env names the copy\'s project and folders and keeps everything else', async () => {
  const profile = await loadProfile('hoss');
  const env = parseEnv(ARCHIVED);
  const changes = relocateEnv(profile, env, TO, '/root/.hoss');
  assert.deepEqual(changes, {
    HOSS_DIR: '/t/v/config',
    COMPOSE_PROJECT_NAME: 'hossadm-verify-abc123',
    DB_ROOT: '/t/v/config/data/db',
    DB_INIT_SCRIPTS: '/t/v/config/core/db-init-scripts',
    BACKUP_ROOT: '/t/v/backup',
    SNAPSHOTS: '/t/v/backup/extra',
    HOSSADM_UP_COMMAND: '',
    HOSSADM_UP_WORKDIR: '',
  });
  const config = stackConfigFromEnv(profile, TO.configDir, { ...env, ...changes }, '/root');
  assert.equal(config.project, 'hossadm-verify-abc123');
  assert.equal(config.compose.upCommand, undefined);
  assert.deepEqual(config.compose.files, ['/home/op/.hoss/compose/docker-compose.yaml', '/srv/hoss/docker-compose.local.yaml']);
  assert.match(config.components.find((c) => c.id === 'volumes')!.planBackup(config)[0]!, /copy volume hossadm-verify-abc123_auth-secrets /);
  assertRelocated(config, TO);
  const text = updateEnvText(ARCHIVED, changes);
  assert.match(text, /^# live stack\nHOSS_VERSION=0.2.13\nHOSS_DIR=\/t\/v\/config\n/);
  assert.match(text, /^POSTGRES_PASSWORD=secret$/m);
});

test('without HOSS_DIR in the .env, the live config folder stands in for the archived one', async () => {
  const profile = await loadProfile('hoss');
  const env = parseEnv(ARCHIVED.replace(/^HOSS_DIR=.*\n/m, ''));
  assert.equal(relocateEnv(profile, env, TO, '/home/op/.hoss').DB_ROOT, '/t/v/config/data/db');
});

test('a data folder outside HOSS_DIR and BACKUP_ROOT is refused, not shared with the live stack', async () => {
  const profile = await loadProfile('hoss');
  const env = parseEnv(ARCHIVED.replace('DB_ROOT=/home/op/.hoss/data/db', 'DB_ROOT=/var/lib/hoss/db'));
  const changes = relocateEnv(profile, env, TO, '/root/.hoss');
  assert.equal(changes.DB_ROOT, undefined);
  const config = stackConfigFromEnv(profile, TO.configDir, { ...env, ...changes }, '/root');
  assert.throws(() => assertRelocated(config, TO), (e: unknown) => e instanceof PreflightError && /postgres data folder at \/var\/lib\/hoss\/db, outside/.test(e.message));
});
