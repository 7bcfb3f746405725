// Faults and bad input on the real engine: each ends in a one-line error
// naming the problem and the fix, the documented exit code, and nothing
// written or changed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { loadContext, type StackContext } from '../../compose/driver/context.ts';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { HOSSADM, hossadm, hossadmOk } from './hossadm-support.ts';
import { changedKeys, isolatedStack, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('faults');
let ctx: StackContext;
let saved: string;

const fingerprint = () => stackOk(['fingerprint'], stack.env);
const backupsDir = () => join(stack.hossDir, 'backup', 'backups');
const archives = async () => (await readdir(backupsDir()).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();

/** The first stderr line is the one an operator acts on. */
function firstErrorLine(stderr: string): string {
  return stderr.split('\n').find((l) => l.startsWith('hossadm: ')) ?? '';
}

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
  ctx = await loadContext(stack.hossDir);
  saved = await fingerprint();
});

after(async () => {
  await runStack(['reset'], stack.env);
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

test('no engine at DOCKER_HOST: exit 4, one line naming the address and the fix', async () => {
  const run = await hossadm(['backup', '--yes'], { ...stack.env, DOCKER_HOST: 'unix:///tmp/no-engine-here.sock' });
  assert.equal(run.code, 4, run.stderr);
  assert.match(firstErrorLine(run.stderr), /^hossadm: no Docker engine answers at unix:\/\/\/tmp\/no-engine-here\.sock \(fix: start the Docker engine/);
});

test('a config folder without .env: exit 3 naming the file', async () => {
  const run = await hossadm(['backup', '--yes'], { ...stack.env, HOSS_DIR: join(dirname(stack.hossDir), 'nowhere') });
  assert.equal(run.code, 3, run.stderr);
  assert.match(firstErrorLine(run.stderr), /no stack configuration at .*nowhere\/\.env/);
});

test('bad command lines exit 2', async () => {
  assert.equal((await hossadm(['backup', '--compress', 'lz4'], stack.env)).code, 2);
  assert.equal((await hossadm(['frobnicate'], stack.env)).code, 2);
  assert.equal((await hossadm(['backup', '--no-such-option'], stack.env)).code, 2);
});

test('empty, random and hostile files are refused as archives before anything changes (exit 7)', async () => {
  const work = join(dirname(stack.hossDir), 'hostile');
  await mkdir(work, { recursive: true });
  const empty = join(work, 'empty.tar.zst');
  await writeFile(empty, '');
  const random = join(work, 'random.tar.zst');
  await writeFile(random, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)));
  // A real tar whose member climbs out of the target.
  const header = Buffer.alloc(512);
  header.write('../escaped-by-hossadm', 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write('00000000005\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const body = Buffer.alloc(512);
  body.write('pwned');
  const traversal = join(work, 'traversal.tar.zst');
  await writeFile(traversal, zstdCompressSync(Buffer.concat([header, body, Buffer.alloc(1024)])));
  for (const bad of [empty, random, traversal]) {
    const run = await hossadm(['restore', '--yes', bad], stack.env);
    assert.equal(run.code, 7, `${bad}: ${run.stderr}`);
    assert.match(firstErrorLine(run.stderr), /^hossadm: /);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  }
  await assert.rejects(readFile(join(dirname(work), 'escaped-by-hossadm')), 'nothing written outside the target');
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
});

test('a snapshot folder the search engine cannot write: exit 6 before anything stops, with the chown to run', async () => {
  const repo = join(stack.hossDir, 'backup', '.opensearch');
  await runHelperScript({ script: 'chown 0:0 /r && chmod 755 /r', mounts: [{ source: repo, target: '/r' }], purpose: 'test make repo unwritable' });
  try {
    const run = await hossadm(['backup', '--yes'], stack.env);
    assert.equal(run.code, 6, run.stderr);
    assert.match(firstErrorLine(run.stderr), /OpenSearch cannot write its snapshot repository .*fix: make .*\.opensearch writable by the search engine's user \(uid 1000\): sudo chown 1000:1000 /);
    assert.doesNotMatch(run.stderr, /stop writers/);
  } finally {
    await runHelperScript({ script: 'chown 1000:1000 /r', mounts: [{ source: repo, target: '/r' }], purpose: 'test restore repo owner' });
  }
  assert.deepEqual(await archives(), []);
});

test('two backups at once against one BACKUP_ROOT: the second refuses with exit 9 naming the holder', async () => {
  const first = spawn(process.execPath, [HOSSADM, 'backup', '--yes'], { env: { ...process.env, ...stack.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const firstDone = new Promise<number>((resolve) => first.on('close', (code) => resolve(code ?? -1)));
  await new Promise<void>((resolve) => {
    first.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (stderr.includes('pre-flight checks')) resolve();
    });
  });
  const second = await hossadm(['backup', '--yes'], stack.env);
  assert.equal(second.code, 9, second.stderr);
  assert.match(firstErrorLine(second.stderr), /a backup run \(pid \d+ on .*\) holds .*\.hossadm\.lock/);
  assert.equal(await firstDone, 0, stderr);
  assert.equal((await archives()).length, 1);
});

test('no secret of the stack appears in any output, plain or --json', async () => {
  const secrets = [ctx.env.POSTGRES_PASSWORD!, ctx.env.RABBITMQ_PASS!, ctx.env.LDAP_ADMIN_PASSWORD!];
  const key = (await runHelperScript({ script: 'cat /s/private.pem', mounts: [{ source: `${stack.project}_auth-secrets`, target: '/s', readOnly: true }], purpose: 'test read key' })).trim().split('\n')[1]!;
  const runs = [await hossadmOk(['backup', '--yes', '--json'], stack.env), await hossadmOk(['backup', '--yes', '--hot'], stack.env)];
  const latest = (await archives()).at(-1)!;
  runs.push(await hossadmOk(['restore', '--dry-run', '--json', join(backupsDir(), latest)], stack.env));
  for (const run of runs) {
    for (const secret of [...secrets, key]) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret leaked into output');
    }
  }
});
