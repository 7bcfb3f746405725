// An archive written by hossadm 0.1.0 (archive format 1: members config.tar,
// postgres/, opensearch/, volumes/ and one engines table) still verifies and
// restores. The fixture is a real backup of the reference HOSS stack taken
// by that version with HOSS_DIR=/tmp/hossadm-format1/hoss and project
// tformat1; fixtures/archives/hoss-format-1.fingerprint.json is the driver's
// fingerprint of that stack at the time. The test brings up a stack at the
// same place with the archived .env (its secrets are the ones the archived
// roles and volumes carry), restores the archive in place and compares
// fingerprints.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { hossadm } from '../integration/hossadm-support.ts';
import { changedKeys, REPO, runStack, stackOk } from '../integration/stack-support.ts';

const ARCHIVE = `${REPO}/fixtures/archives/hoss-format-1.tar.zst`;
const HOSS_DIR = '/tmp/hossadm-format1/hoss';
const env = { HOSS_DIR, COMPOSE_PROJECT_NAME: 'tformat1' };

before(async () => {
  // A run killed earlier may have left the stack; start from nothing.
  await runStack(['reset'], env);
  await rm('/tmp/hossadm-format1', { recursive: true, force: true });
  await mkdir(HOSS_DIR, { recursive: true });
  await writeFile(`${HOSS_DIR}/.env`, execFileSync('sh', ['-c', 'zstd -dc "$1" | tar -xOf - stack.env', 'sh', ARCHIVE]), { mode: 0o600 });
  await stackOk(['up'], env);
});

after(async () => {
  await runStack(['reset'], env);
  await rm('/tmp/hossadm-format1', { recursive: true, force: true });
});

test('a format-1 archive verifies with the hossadm of today', async () => {
  const run = await hossadm(['verify', ARCHIVE], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /hoss-format-1\.tar\.zst/);
});

test('a format-1 archive restores in place and the stack equals the one it was taken from', async () => {
  const run = await hossadm(['restore', '--yes', ARCHIVE], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /content matches the manifest/);
  const expected = await readFile(`${REPO}/fixtures/archives/hoss-format-1.fingerprint.json`, 'utf8');
  assert.deepEqual(changedKeys(expected, await stackOk(['fingerprint'], env)), []);
});
