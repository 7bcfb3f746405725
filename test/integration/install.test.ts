// hossadm as operators install it, against one reference HOSS stack:
// - the npm package: `npm pack` of the sources (dist/ built at pack time),
//   `npm install -g` into a clean prefix; the installed `hossadm` answers
//   --version and backs the stack up; with an old Node first on PATH every
//   command is refused in one line with exit 3;
// - the container image hoss-local/hossadm:local, run like
//   offen/docker-volume-backup (socket and stack folder mounted at the same
//   paths): backup, list, check, and an in-place restore that gives back the
//   saved fingerprint.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { runHelperScript } from '../../compose/driver/runtime.ts';
import { changedKeys, isolatedStack, REPO, runChild, runStack, stackOk } from './stack-support.ts';

const IMAGE = 'hoss-local/hossadm:local';
const stack = await isolatedStack('install');
const work = await mkdtemp(join(tmpdir(), 'hossadm-install-'));
const prefix = join(work, 'prefix');
const fingerprint = () => stackOk(['fingerprint'], stack.env);
const backupsDir = () => join(stack.hossDir, 'backup', 'backups');
const archives = async () => (await readdir(backupsDir()).catch(() => [] as string[])).filter((n) => /\.tar(\.zst|\.gz)?$/.test(n)).sort();
/** PATH with the Node running this test first, as an operator with Node 24 installed has it. */
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;

before(async () => {
  await stackOk(['up'], stack.env);
  await stackOk(['seed'], stack.env);
});

after(async () => {
  await runStack(['reset'], stack.env);
  const root = dirname(stack.hossDir);
  await runHelperScript({ script: 'rm -rf /root-of-test/*', mounts: [{ source: root, target: '/root-of-test' }], purpose: 'test cleanup' }).catch(
    () => undefined,
  );
  await rm(root, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test('npm pack + npm install -g into a clean prefix gives a hossadm that backs the reference stack up', async () => {
  // A copy of the sources, as a fresh clone has them (node_modules shared to spare the download), so the checkout's dist/ is left alone.
  const source = join(work, 'source');
  await mkdir(join(source, 'scripts'), { recursive: true });
  for (const entry of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src', 'templates'])
    await cp(join(REPO, entry), join(source, entry), { recursive: true });
  await cp(join(REPO, 'scripts', 'node24.sh'), join(source, 'scripts', 'node24.sh'));
  await symlink(join(REPO, 'node_modules'), join(source, 'node_modules'));
  const npmEnv = { ...process.env, PATH };
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: source, env: npmEnv, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  const tarball = join(work, packed);
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' });
  for (const file of [
    'package/bin/hossadm.js',
    'package/dist/cli/main.js',
    'package/templates/profiles/hoss.json',
    'package/templates/postgres/zz-hossadm-restore.sh',
  ]) {
    assert.ok(listing.includes(`${file}\n`), `${file} is in the package`);
  }
  assert.doesNotMatch(listing, /package\/(src|test|node_modules)\//, 'sources, tests and dependencies stay out of the package');
  execFileSync('npm', ['install', '-g', '--silent', '--no-fund', '--no-audit', '--prefix', prefix, tarball], {
    env: npmEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const installed = join(prefix, 'bin', 'hossadm');

  const version = await runChild(installed, ['--version'], { PATH }, 60_000);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(version.stdout.trim(), JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })).version);

  const before = await archives();
  const backup = await runChild(installed, ['--profile', 'hoss', '--config-dir', stack.hossDir, 'backup', '--yes'], { PATH }, 20 * 60_000);
  assert.equal(backup.code, 0, backup.stderr.slice(-3000));
  assert.equal((await archives()).length, before.length + 1, 'one archive more');

  // The installed command under the Node Debian ships (20), when it is there.
  const old = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
  if (old.status === 0 && Number(old.stdout.split('.')[0]) < 22) {
    for (const args of [['--version'], ['backup', '--yes'], ['verify', 'latest'], ['list']]) {
      const run = await runChild(installed, ['--config-dir', stack.hossDir, ...args], { PATH: `/usr/bin:${PATH}` }, 60_000);
      assert.equal(run.code, 3, `${args.join(' ')}: ${run.stderr}`);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, /^hossadm: Node\.js 20\.\S+ .* is too old; hossadm needs Node\.js 22\.15 or later/);
    }
    assert.equal((await archives()).length, before.length + 1, 'the refused backup wrote nothing');
  }
});

/** The image as the project's image build makes it, rebuilt when the sources changed since (its recipe covers only its own folder). */
function currentImage(): void {
  execFileSync(join(REPO, 'compose', 'images', 'build'), ['hossadm'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const label = (name: string) =>
    execFileSync('docker', ['image', 'inspect', '--format', `{{ index .Config.Labels "${name}" }}`, IMAGE], { encoding: 'utf8' }).trim();
  const sources = execFileSync(
    'sh',
    ['-c', 'find package.json package-lock.json bin src templates -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-64'],
    { cwd: REPO, encoding: 'utf8' },
  ).trim();
  if (label('org.hossadm.source') === sources) return;
  execFileSync('sh', [join(REPO, 'compose', 'images', 'hossadm', 'build.sh')], {
    env: { ...process.env, IMAGE_TAG: IMAGE, RECIPE_HASH: label('org.hossadm.recipe'), HOSSADM_ROOT: REPO },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

function inImage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const docker = ['run', '--rm', '--network', 'host', '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${stack.hossDir}:${stack.hossDir}`, IMAGE];
  return runChild('docker', [...docker, '--config-dir', stack.hossDir, ...args], {}, 20 * 60_000);
}

test('the hossadm image backs the reference stack up, lists and checks it, and restores it in place', async () => {
  currentImage();
  const saved = await fingerprint();
  const backup = await inImage(['backup', '--yes', '--json']);
  assert.equal(backup.code, 0, backup.stderr.slice(-3000));
  const archive = (JSON.parse(backup.stdout) as { archive: string }).archive;
  assert.ok(archive.startsWith(backupsDir()), archive);
  assert.equal(await fingerprint(), saved, 'a backup changes nothing');
  // --json: progress and steps as JSON lines on stderr.
  const events = backup.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { event: string });
  assert.ok(
    events.some((e) => e.event === 'step'),
    'steps as JSON lines',
  );

  const list = await inImage(['list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.ok((JSON.parse(list.stdout) as { name: string }[]).some((row) => archive.endsWith(row.name)));
  const check = await inImage(['check', '--max-age', '1h']);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /^HOSSADM OK - /);

  await stackOk(['seed', '--scale', '2'], stack.env);
  assert.notDeepEqual(changedKeys(saved, await fingerprint()), [], 'the stack changed after the backup');
  const restore = await inImage(['restore', '--yes', archive]);
  assert.equal(restore.code, 0, restore.stderr.slice(-3000));
  assert.deepEqual(changedKeys(saved, await fingerprint()), [], 'the in-place restore gives back the saved state');
});
