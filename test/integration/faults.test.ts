// Faults and bad input on the real engine: each ends in a one-line error
// naming the problem and the fix, the documented exit code, and nothing
// written or changed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { zstdCompressSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { loadContext, type StackContext } from '../../compose/driver/context.ts';
import { waitForServices } from '../../compose/driver/readiness.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { docker, runHelperScript } from '../../compose/driver/runtime.ts';
import { LIST_SCRIPT } from '../../src/docker/tree-digest.ts';
import { TREE_SCRIPTS } from '../../src/docker/tree-helper.ts';
import { updateEnvText } from '../../src/config/env-file.ts';
import { HOSSADM, hossadm, hossadmOk, type CliRun } from './hossadm-support.ts';
import { rewriteArchive } from './archive-rewrite.ts';
import { observeRun, type Observation } from './run-observer.ts';
import { changedKeys, isolatedStack, runChild, runStack, stackOk } from './stack-support.ts';

const stack = await isolatedStack('faults');
let ctx: StackContext;
let saved: string;

const fingerprint = () => stackOk(['fingerprint'], stack.env);
const backupsDir = () => join(stack.hossDir, 'backup', 'backups');
const archives = async () => (await readdir(backupsDir()).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();

/** A config folder anyone may read, holding the stack's .env with some values changed. */
async function configCopy(changes: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hoss-config-copy-'));
  await chmod(dir, 0o755);
  await writeFile(join(dir, '.env'), updateEnvText(await readFile(join(stack.hossDir, '.env'), 'utf8'), changes), { mode: 0o644 });
  return dir;
}

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

test('a Docker socket this user may not open: exit 4 saying permission denied and how to get access', async () => {
  // An operator without the docker group: a copy of the config they can read, the real socket they cannot.
  const readable = await configCopy({});
  try {
    const run = await runChild('runuser', ['-u', 'nobody', '--', process.execPath, HOSSADM, 'backup', '--yes'], { ...stack.env, HOSS_DIR: readable }, 60_000);
    assert.equal(run.code, 4, run.stderr);
    assert.match(firstErrorLine(run.stderr), /^hossadm: cannot open the Docker socket at .*docker\.sock: permission denied \(fix: add your user to the "docker" group/);
  } finally {
    await rm(readable, { recursive: true, force: true });
  }
});

test('a compose project with no containers: exit 5 naming the project and where to set its name', async () => {
  const elsewhere = await configCopy({ COMPOSE_PROJECT_NAME: 'nosuchproject' });
  try {
    const run = await hossadm(['backup', '--yes'], { ...stack.env, HOSS_DIR: elsewhere });
    assert.equal(run.code, 5, run.stderr);
    assert.match(firstErrorLine(run.stderr), /no containers of compose project "nosuchproject" exist \(fix: bring the stack up, or set COMPOSE_PROJECT_NAME in .*\.env/);
  } finally {
    await rm(elsewhere, { recursive: true, force: true });
  }
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

test('no secret in any output or any process argv; only fixed scripts reach a shell; archives and staging are owner-only', async () => {
  const secrets = [ctx.env.POSTGRES_PASSWORD!, ctx.env.RABBITMQ_PASS!, ctx.env.LDAP_ADMIN_PASSWORD!];
  const key = (await runHelperScript({ script: 'cat /s/private.pem', mounts: [{ source: `${stack.project}_auth-secrets`, target: '/s', readOnly: true }], purpose: 'test read key' })).trim().split('\n')[1]!;
  const backupRoot = join(stack.hossDir, 'backup');
  const watched = [join(backupRoot, '.current'), join(backupRoot, '.restore'), join(backupRoot, '.hossadm.lock'), backupsDir()];
  const observer = observeRun(watched);
  let observation: Observation;
  const runs: CliRun[] = [];
  try {
    runs.push(await hossadmOk(['backup', '--yes', '--json'], stack.env), await hossadmOk(['backup', '--yes', '--hot'], stack.env));
    const latest = join(backupsDir(), (await archives()).at(-1)!);
    runs.push(await hossadmOk(['restore', '--dry-run', '--json', latest], stack.env), await hossadmOk(['restore', '--yes', latest], stack.env));
  } finally {
    observation = await observer.stop();
  }
  assert.deepEqual(changedKeys(saved, await fingerprint()), [], 'the in-place restore gives back the saved state');
  for (const run of runs) {
    for (const secret of [...secrets, key]) {
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a secret leaked into output');
    }
  }

  // The observer must see the commands run inside containers, or the
  // argv checks below would prove nothing.
  const { argvs, modes } = observation;
  assert.ok(argvs.some((a) => a.some((arg) => /(^|\/)pg_dump$/.test(arg))), 'pg_dump seen running in the db container');
  const helperShells = argvs.filter((a) => a[1] === '-c' && (a[3] === 'hossadm-helper' || a[3] === 'list-tree'));
  assert.ok(helperShells.some((a) => a[2]!.includes('tar -c -f')), 'a volume tar helper seen running');
  for (const argv of argvs) {
    const line = argv.join(' ');
    for (const secret of [...secrets, key]) assert.ok(!line.includes(secret), `a secret in the argv of: ${argv[0]}`);
  }
  for (const argv of helperShells) assert.ok([...TREE_SCRIPTS, LIST_SCRIPT].includes(argv[2]!), `a helper shell ran a script that is not one of hossadm's constants: ${argv[2]}`);
  // Configuration (project name, folders) reaches a shell only as separate
  // arguments: no shell text anywhere on the host holds it.
  for (const argv of argvs.filter((a) => a.includes('-c'))) {
    const script = argv[argv.indexOf('-c') + 1] ?? '';
    assert.ok(!script.includes(stack.project) && !script.includes(stack.hossDir), `configuration spliced into shell text: ${script.slice(0, 200)}`);
  }

  // The backups folder itself is the operator's (here the stack set-up made
  // it 0755); hossadm makes it 0700 only when it creates it.
  const wide = [...modes].filter(([path, mode]) => (mode & 0o077) !== 0 && path !== backupsDir());
  assert.deepEqual(wide.map(([path, mode]) => `${path} ${mode.toString(8)}`), [], 'staging, pipes, lock and archives are readable by their owner only');
  for (const seen of [join(backupRoot, '.current', 'members'), join(backupRoot, '.restore'), join(backupRoot, '.hossadm.lock'), join(backupsDir(), 'hoss-backup-')]) {
    assert.ok([...modes.keys()].some((p) => p.startsWith(seen)), `${seen} was seen during the runs`);
  }
});

// Archive format 2 keeps each instance's engine versions in its own record.
const versionsOf = (m: Record<string, unknown>, id: string) => (m.components as Record<string, { versions: Record<string, string> }>)[id]!.versions;

test('archives from another Postgres or OpenSearch major are refused before any change', async () => {
  const latest = join(backupsDir(), (await archives()).at(-1)!);
  const work = join(dirname(stack.hossDir), 'skew');
  await mkdir(work, { recursive: true });
  const cases: { name: string; edit: (m: Record<string, unknown>) => void; code: number; message: RegExp }[] = [
    { name: 'postgres16', edit: (m) => void (versionsOf(m, 'postgres').postgresServer = '16.4'), code: 6, message: /archive's databases come from Postgres 16\.4, the running server is 15\.\d+.* \(fix: .*--force-version/ },
    { name: 'opensearch3', edit: (m) => void (versionsOf(m, 'opensearch').opensearch = '3.0.0'), code: 6, message: /OpenSearch 2\.\d+\.\d+ cannot read a snapshot taken by 3\.0\.0/ },
  ];
  for (const c of cases) {
    const file = join(work, `${c.name}.tar.zst`);
    await rewriteArchive(latest, file, 'zstd', c.edit);
    const run = await hossadm(['restore', '--yes', file], stack.env);
    assert.equal(run.code, c.code, `${c.name}: ${run.stderr}`);
    assert.match(firstErrorLine(run.stderr), c.message, c.name);
    assert.doesNotMatch(run.stderr, /stop writers/, `${c.name}: refused before anything stopped`);
  }
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
});

test('an OpenSearch whose path.repo does not list the snapshot folder: exit 6 before anything stops, naming the setting to add', async () => {
  const settings = join(stack.hossDir, 'opensearch', 'opensearch.yaml');
  const original = await readFile(settings, 'utf8');
  assert.match(original, /^path\.repo:/m);
  const restartSearch = async () => {
    const [search] = (await projectContainers(docker, stack.project)).filter((c) => c.service === 'opensearch');
    await docker.stopContainer(search!.id);
    await docker.startContainer(search!.id);
    await waitForServices(ctx, 300, ['opensearch'], false);
  };
  // The file is bind-mounted: rewrite it in place so the mount keeps it.
  await writeFile(settings, original.replace(/^path\.repo:.*$/m, ''));
  await restartSearch();
  try {
    const before = (await archives()).length;
    const run = await hossadm(['backup', '--yes'], stack.env);
    assert.equal(run.code, 6, run.stderr);
    assert.match(firstErrorLine(run.stderr), /OpenSearch's path\.repo does not list \/mnt\/snapshots \(it has: nothing\) \(fix: add path\.repo: \["\/mnt\/snapshots"\] to opensearch\.yml in .* and restart the opensearch service\)/);
    assert.doesNotMatch(run.stderr, /stop writers/);
    assert.equal((await archives()).length, before, 'no archive');
  } finally {
    await writeFile(settings, original);
    await restartSearch();
  }
  assert.deepEqual(changedKeys(saved, await fingerprint()), []);
});
