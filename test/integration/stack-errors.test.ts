// Bad input and a missing engine: one line on stderr naming the problem,
// and the exit code of the table in src/errors.ts. None of these starts a
// stack, so they run in seconds.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ExitCode } from '../../src/errors.ts';
import { runStack } from './stack-support.ts';

let scratch: string;
const noEngine = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'hoss-stack-errors-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`);
  assert.match(lines[0]!, pattern);
}

test('an unknown verb is a usage error naming it', async () => {
  const run = await runStack(['backup'], { HOSS_DIR: scratch });
  assert.equal(run.code, ExitCode.usage);
  assertOneLine(run.stderr, /unknown verb "backup"/);
});

test('no verb is a usage error', async () => {
  const run = await runStack([], { HOSS_DIR: scratch });
  assert.equal(run.code, ExitCode.usage);
  assertOneLine(run.stderr, /no verb/);
});

for (const args of [['--scale', '0'], ['--scale', '-3'], ['--scale', 'two'], ['--scale', '1.5'], ['--scale'], ['--scale=100000'], ['--size', '2']]) {
  test(`seed ${args.join(' ')} is a usage error`, async () => {
    const run = await runStack(['seed', ...args], { HOSS_DIR: scratch });
    assert.equal(run.code, ExitCode.usage);
    assertOneLine(run.stderr, /scale|unexpected argument/);
  });
}

test('an option on a verb that takes none is a usage error', async () => {
  const run = await runStack(['fingerprint', '--scale', '2'], { HOSS_DIR: scratch });
  assert.equal(run.code, ExitCode.usage);
  assertOneLine(run.stderr, /unexpected argument "--scale" for fingerprint/);
});

test('HOSS_DIR that is a file is a configuration error naming it', async () => {
  const file = join(scratch, 'not-a-folder');
  await writeFile(file, 'x');
  for (const verb of ['up', 'seed', 'fingerprint', 'down', 'reset']) {
    const run = await runStack([verb], { HOSS_DIR: file, ...noEngine });
    assert.equal(run.code, ExitCode.config, verb);
    assertOneLine(run.stderr, new RegExp(`HOSS_DIR ${file} is not a folder`));
  }
});

test('a stack never brought up has no configuration to seed or fingerprint', async () => {
  for (const verb of ['seed', 'fingerprint', 'down']) {
    const run = await runStack([verb], { HOSS_DIR: join(scratch, 'empty') });
    assert.equal(run.code, ExitCode.config, verb);
    assertOneLine(run.stderr, /does not exist|no stack configuration/);
  }
});

test('a missing engine is an engine error naming the address', async () => {
  for (const verb of ['up', 'reset']) {
    const run = await runStack([verb], { HOSS_DIR: join(scratch, 'fresh'), ...noEngine });
    assert.equal(run.code, ExitCode.engine, verb);
    assertOneLine(run.stderr, /no Docker engine answers at unix:\/\/\/nonexistent\/docker\.sock/);
  }
});
