// hossadm upgrade unattended, on the real reference stack: the plan, the
// refusals, a release that fails its checks rolled back by flag
// (--rollback-on-failure) or left in place (--no-rollback, then rolled back
// by hand as the message says), and an upgrade to 0.3.0 whose schema
// migration shows in the fingerprint.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { updateEnvText } from '../../src/config/env-file.ts';
import { hossadm, hossadmOk } from './hossadm-support.ts';
import { changedKeys, isolatedStack, stackOk } from './stack-support.ts';
import { ALL_RUNNING, archives, coreSchema, envText, envVersion, MIGRATION_0_3_0_KEYS, removeStack, serviceStates } from './upgrade-support.ts';

const stack = await isolatedStack('upgrade');
const fingerprint = () => stackOk(['fingerprint'], stack.env);
let seeded: string;

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  seeded = await fingerprint();
});

after(() => removeStack(stack));

test('--dry-run shows versions, the changed service and the release notes; refusals change nothing', async () => {
  const envBefore = await envText(stack);
  const plan = await hossadmOk(['upgrade', '--to', '0.3.0', '--dry-run'], stack.env);
  assert.match(plan.stdout, /Upgrade plan \(nothing was done\)/);
  assert.match(plan.stdout, /running version 0\.2\.13, target version 0\.3\.0/);
  assert.match(plan.stdout, /\.env: HOSS_VERSION 0\.2\.13 -> 0\.3\.0/);
  assert.match(plan.stdout, /service core: environment\.HOSS_VERSION 0\.2\.13 -> 0\.3\.0/);
  assert.match(plan.stdout, /unchanged: auth, db, ldap, opensearch, rabbitmq/);
  assert.match(plan.stdout, /release notes for 0\.3\.0: core migrates the hoss_core schema/);

  const contradiction = await hossadm(['upgrade', '--to', '0.3.0', '--rollback-on-failure', '--no-rollback', '--yes'], stack.env);
  assert.equal(contradiction.code, 2, contradiction.stderr);
  const noTerminal = await hossadm(['upgrade', '--to', '0.3.0'], stack.env);
  assert.equal(noTerminal.code, 11, noTerminal.stderr);
  assert.match(noTerminal.stderr, /"Take a backup first\?" needs confirmation and there is no terminal to ask/);
  const current = await hossadmOk(['upgrade', '--yes'], stack.env);
  assert.match(current.stdout, /already runs 0\.2\.13; nothing to do/, 'the default target is compose/server/VERSION');
  const badName = await hossadm(['upgrade', '--to', '../0.3.0', '--yes'], stack.env);
  assert.equal(badName.code, 2, badName.stderr);

  assert.equal(await envText(stack), envBefore);
  assert.deepEqual(await archives(stack), []);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
});

test('--yes --rollback-on-failure: a release that fails its checks is rolled back to 0.2.13 and the saved data', async () => {
  const started = Date.now();
  const run = await hossadm(['upgrade', '--to', '0.3.0-broken', '--yes', '--rollback-on-failure'], stack.env);
  assert.equal(run.code, 8, run.stderr);
  assert.match(run.stderr, /hossadm: upgrade to 0\.3\.0-broken failed: service core is unhealthy .*; rolled back: the stack runs 0\.2\.13 again with the data of .*hoss-backup-\d{8}T\d{6}Z\.tar\.zst/);
  assert.match(run.stderr, /relation "ledger" does not exist/, 'the failing health check says why');
  assert.match(run.stderr, /prove the restore against the manifest: identical/);
  assert.equal(await envVersion(stack), '0.2.13');
  assert.equal((await archives(stack)).length, 1, 'one pre-upgrade backup');
  assert.deepEqual(await serviceStates(stack), ALL_RUNNING);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), [], 'the old version\'s fingerprint, exactly');
  console.log(`# failed upgrade and rollback: ${Math.round((Date.now() - started) / 1000)} s`);
});

test('--yes --no-rollback: the failed release is left as it is; the steps the message gives roll it back by hand', async () => {
  const before = await archives(stack);
  const run = await hossadm(['upgrade', '--to', '0.3.0-broken', '--yes', '--no-rollback'], stack.env);
  assert.equal(run.code, 8, run.stderr);
  assert.match(run.stderr, /not rolled back: the stack is left at 0\.3\.0-broken/);
  assert.equal(await envVersion(stack), '0.3.0-broken');
  const archive = (await archives(stack)).find((name) => !before.includes(name))!;
  assert.match(run.stderr, new RegExp(`fix: set HOSS_VERSION=0\\.2\\.13 in .*\\.env, start the stack, then hossadm restore .*${archive}`));
  assert.notDeepEqual(changedKeys(seeded, await fingerprint()), [], 'the broken migration changed the data');

  const envPath = join(stack.hossDir, '.env');
  await writeFile(envPath, updateEnvText(await envText(stack), { HOSS_VERSION: '0.2.13' }));
  await stackOk(['up'], stack.env);
  await hossadmOk(['restore', '--yes', join(stack.hossDir, 'backup', 'backups', archive)], stack.env);
  await stackOk(['up'], stack.env);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
});

test('--yes: an upgrade to 0.3.0 migrates the schema, .env names 0.3.0, every check passes', async () => {
  const started = Date.now();
  const run = await hossadmOk(['upgrade', '--to', '0.3.0', '--yes', '--json'], stack.env);
  const result = JSON.parse(run.stdout) as { outcome: string; from: string; to: string; archive: string; checks: { ok: boolean }[]; downtimeSeconds: number };
  assert.equal(result.outcome, 'upgraded');
  assert.deepEqual([result.from, result.to], ['0.2.13', '0.3.0']);
  assert.ok((await archives(stack)).includes(result.archive.split('/').pop()!));
  assert.ok(result.checks.length >= 6 && result.checks.every((c) => c.ok));
  assert.equal(await envVersion(stack), '0.3.0');
  assert.deepEqual(await serviceStates(stack), ALL_RUNNING);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), MIGRATION_0_3_0_KEYS);
  assert.deepEqual(await coreSchema(stack), { releases: ['0.3.0'], accountColumns: ['balance', 'currency', 'id', 'owner'] });
  console.log(`# upgrade to 0.3.0: ${Math.round((Date.now() - started) / 1000)} s, services down ${result.downtimeSeconds} s`);

  const again = await hossadmOk(['upgrade', '--to', '0.3.0', '--yes'], stack.env);
  assert.match(again.stdout, /already runs 0\.3\.0; nothing to do/);
});
