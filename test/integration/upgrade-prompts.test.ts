// hossadm upgrade as a person meets it: the real CLI in a pseudo-terminal,
// each question answered with keys. Ctrl-C or "no" at any question before
// the downtime changes nothing (no archive, same .env, stack running); a
// failed release is rolled back when the person says so; Enter takes the
// default (a backup first) on the way to a good upgrade.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { changedKeys, isolatedStack, stackOk } from './stack-support.ts';
import { CTRL_C, ENTER, inTerminal, type KeyStep, type TerminalRun } from './terminal-support.ts';
import { ALL_RUNNING, archives, coreSchema, envText, envVersion, MIGRATION_0_3_0_KEYS, removeStack, serviceStates } from './upgrade-support.ts';

const stack = await isolatedStack('upgradeprompts');
const fingerprint = () => stackOk(['fingerprint'], stack.env);
let seeded: string;

const BACKUP_QUESTION = String.raw`\? Take a backup first\? \(Y/n\)`;
const downtimeQuestion = (from: string, to: string) => String.raw`\? Stop every service of "\w+" and upgrade it from ${from.replaceAll('.', '\\.')} to ${to.replaceAll('.', '\\.')}\?[\s\S]*\(y/N\)`;

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  seeded = await fingerprint();
});

after(() => removeStack(stack));

function screen(run: TerminalRun): string {
  return `exit ${run.code}, step ${run.timedOutAt ?? '-'} unmatched; screen:\n${run.output.slice(-3000)}`;
}

// Each way out before the downtime: the keys typed, the exit code, the message.
const WAYS_OUT: { name: string; keys: KeyStep[]; code: number; message: RegExp }[] = [
  { name: 'Ctrl-C at "Take a backup first?"', keys: [{ expect: BACKUP_QUESTION, send: CTRL_C }], code: 130, message: /hossadm: interrupted at a prompt; nothing was changed/ },
  {
    name: 'Ctrl-C at the downtime question, after "yes" to the backup (no backup is taken yet)',
    keys: [{ expect: BACKUP_QUESTION, send: `y${ENTER}` }, { expect: downtimeQuestion('0.2.13', '0.3.0'), send: CTRL_C }],
    code: 130,
    message: /hossadm: interrupted at a prompt; nothing was changed/,
  },
  {
    name: '"n" at the downtime question',
    keys: [{ expect: BACKUP_QUESTION, send: `y${ENTER}` }, { expect: downtimeQuestion('0.2.13', '0.3.0'), send: `n${ENTER}` }],
    code: 11,
    message: /hossadm: upgrade declined; nothing was changed/,
  },
];

for (const way of WAYS_OUT) {
  test(`${way.name}: exit ${way.code}, .env unchanged, no archive, the stack runs as before`, async () => {
    const envBefore = await envText(stack);
    const run = await inTerminal(['upgrade', '--to', '0.3.0'], way.keys, stack.env);
    assert.equal(run.timedOutAt, null, screen(run));
    assert.equal(run.code, way.code, screen(run));
    assert.match(run.output, way.message);
    assert.match(run.output, /service core: environment\.HOSS_VERSION 0\.2\.13 -> 0\.3\.0[\s\S]*release notes for 0\.3\.0[\s\S]*Take a backup first/, 'the plan comes before the first question');
    assert.equal(await envText(stack), envBefore, '.env unchanged');
    assert.deepEqual(await archives(stack), [], 'no archive written');
    assert.deepEqual(await serviceStates(stack), ALL_RUNNING, 'the stack still runs');
    assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  });
}

test('a failed release, answered yes, yes, and yes to "Roll back to 0.2.13 by restoring …?", ends at the old fingerprint', async () => {
  const run = await inTerminal(['upgrade', '--to', '0.3.0-broken'], [
    { expect: BACKUP_QUESTION, send: `y${ENTER}` },
    { expect: downtimeQuestion('0.2.13', '0.3.0-broken'), send: `y${ENTER}` },
    { expect: String.raw`\? Roll back to 0\.2\.13 by restoring \S+hoss-backup-\d{8}T\d{6}Z\.tar\.zst\? \(Y/n\)`, send: `y${ENTER}` },
  ], stack.env);
  assert.equal(run.code, 8, screen(run));
  assert.match(run.output, /FAIL every service runs and is healthy: service core is unhealthy/);
  assert.match(run.output, /rolled back: the stack runs 0\.2\.13 again with the data of/);
  assert.equal(await envVersion(stack), '0.2.13');
  assert.deepEqual(await serviceStates(stack), ALL_RUNNING);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
});

test('Enter takes the default (a backup first), "y" accepts the downtime: the stack runs 0.3.0 with its schema migrated', async () => {
  const before = await archives(stack);
  const run = await inTerminal(['upgrade', '--to', '0.3.0'], [
    { expect: BACKUP_QUESTION, send: ENTER },
    { expect: downtimeQuestion('0.2.13', '0.3.0'), send: `y${ENTER}` },
  ], stack.env);
  assert.equal(run.code, 0, screen(run));
  assert.match(run.output, /Upgraded stack \w+ from 0\.2\.13 to 0\.3\.0/);
  assert.equal((await archives(stack)).length, before.length + 1, 'the default answer took a backup');
  assert.equal(await envVersion(stack), '0.3.0');
  assert.deepEqual(changedKeys(seeded, await fingerprint()), MIGRATION_0_3_0_KEYS);
  assert.deepEqual((await coreSchema(stack)).releases, ['0.3.0']);
});
