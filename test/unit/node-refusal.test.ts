// Under a Node older than 22.15 the installed entry point refuses every
// command before loading anything: one line on stderr naming the Node it
// needs and how to get it, nothing on stdout, exit code 3. Run with the
// machine's own old Node (Debian's 20), found on PATH or at /usr/bin/node.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(REPO, 'bin', 'hossadm.js');

function oldNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    const [major = 0, minor = 0] = version.split('.').map(Number);
    if (major > 13 && (major < 22 || (major === 22 && minor < 15))) return candidate;
  }
  return undefined;
}

const node = oldNode();

test('every command under an old Node stops with one line and exit 3', {
  skip: node ? false : 'no Node older than 22.15 (14 or later) on this machine',
}, () => {
  const commands = [
    ['--version'],
    ['--help'],
    ['backup', '--yes'],
    ['restore', 'latest'],
    ['verify', 'latest'],
    ['list'],
    ['check'],
    ['init', '--dry-run'],
    ['schedule', '--print'],
    ['no-such-command'],
  ];
  for (const args of commands) {
    const run = spawnSync(node!, [ENTRY, ...args], { encoding: 'utf8', env: { ...process.env, HOSS_DIR: '/nonexistent' } });
    assert.equal(run.status, 3, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stdout, '', args.join(' '));
    const lines = run.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, `${args.join(' ')}: ${run.stderr}`);
    assert.match(
      lines[0]!,
      /^hossadm: Node\.js \d+\.\d+\.\d+ .*is too old; hossadm needs Node\.js 22\.15 or later \(fix: install Node 24, e\.g\. "npm install -g node@24"/,
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a recent Node runs the CLI through the same entry point', () => {
  const run = spawnSync(process.execPath, [ENTRY, '--version'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/);
});
