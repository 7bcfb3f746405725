// The objectstore kind on the fake engine and an in-memory S3 server: a
// round trip of awkward keys, empty and multipart objects, metadata, tags,
// versioning and policy into an empty server; an in-place restore over a
// changed server; a damaged bucket member refused before the server
// changes; an object deleted during a hot backup; mode "files" (the data
// volume with its extended attributes, copied by the real helper scripts
// with the host's GNU tar) and its settings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { readArchiveMembers } from '../../src/archive/archive-reader.ts';
import { writeArchive } from '../../src/archive/archive-writer.ts';
import { compareFingerprints, type BackupContext, type Component, type ComponentRecord, type RestoreContext } from '../../src/components/component.ts';
import '../../src/components/index.ts';
import { objectStoreKind } from '../../src/components/objectstore/objectstore-kind.ts';
import { validateProfile } from '../../src/config/profile.ts';
import type { StackConfig } from '../../src/config/stack-config.ts';
import { FORMAT_VERSION, type Manifest } from '../../src/core/manifest.ts';
import { Staging } from '../../src/core/staging.ts';
import { ArchiveError, ConfigError, PreflightError } from '../../src/errors.ts';
import { FakeObjectStore, serveObjectStore } from '../support/fake-objectstore.ts';
import { buildStack, connected, PASSWORD, type FakeStack } from '../support/fake-stack.ts';

const ACCESS = 'wire-access';
const MIB = 1024 * 1024;
const LONG_KEY = `deep/${'k'.repeat(1000)}`;

function seed(store: FakeObjectStore): void {
  store.addBucket('assets', { versioning: 'Enabled', policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::assets/public/*"}]}' });
  store.addBucket('public');
  store.put('assets', 'with space.txt', 'spaces', { contentType: 'text/plain', metadata: { owner: 'alice' }, tags: { kind: 'doc' } });
  store.put('assets', 'ünïcødé/ファイル.bin', Buffer.from([0, 1, 2, 255]), { metadata: { 'user-id': '42' } });
  store.put('assets', '../escape', 'not a path', { contentType: 'application/json', tags: { a: '1', b: 'two words' } });
  store.put('assets', LONG_KEY, 'long');
  store.put('assets', 'empty', '');
  store.put('assets', 'big.bin', Buffer.alloc(6 * MIB + 123, 7), { contentType: 'application/octet-stream', metadata: { size: 'big' } });
  store.put('public', 'index.html', '<html></html>', { contentType: 'text/html' });
}

async function sample(t: TestContext, store: FakeObjectStore): Promise<{ stack: FakeStack; config: StackConfig; component: Component }> {
  const profile = validateProfile({
    name: 'objects', configDirVariable: 'STACK_DIR', defaultConfigDir: '~/stack', defaultProject: 'objects', versionVariable: 'STACK_VERSION',
    backupRootDefault: '${STACK_DIR}/backup', helperImage: 'busybox',
    components: [{ id: 'objects', kind: 'objectstore', config: { service: 'objectstore', accessKey: { env: 'S3_ACCESS_KEY' }, secretKey: { env: 'S3_SECRET_KEY' }, multipartThreshold: 5 * MIB } }],
  });
  const stack = await buildStack(t, () => ({
    profile, project: 'objects', env: { COMPOSE_PROJECT_NAME: 'objects', S3_ACCESS_KEY: ACCESS, S3_SECRET_KEY: PASSWORD, STACK_VERSION: '1' },
    services: [{ service: 'objectstore' }, { service: 'brig' }],
  }));
  serveObjectStore(stack, 'objectstore', store);
  const config = await stack.config();
  return { stack, config, component: connected(config.components[0]!, stack.connect) };
}

async function backup(stack: FakeStack, config: StackConfig, component: Component, mode: 'cold' | 'hot' = 'cold'): Promise<{ archive: string; record: ComponentRecord; ctx: BackupContext }> {
  const ctx: BackupContext = {
    config, docker: stack.docker, reporter: stack.reporter, runId: `run-${mode}`, signal: new AbortController().signal,
    containers: [...stack.docker.containers.values()].map((c) => c.info), staging: new Staging(config.stagingDir, 'zstd'), mode,
  };
  const facts = await component.preflightBackup(ctx);
  const task = component.backup(ctx);
  await ctx.staging.create();
  await task.prepare?.();
  await task.freeze?.();
  const record: ComponentRecord = { kind: component.kind, versions: facts.versions, ...(await task.finish()) };
  const manifest: Manifest = {
    formatVersion: FORMAT_VERSION, tool: { name: 'hossadm', version: 'test' }, profile: 'objects', createdAt: new Date().toISOString(), project: 'objects',
    stackVersion: '1', codec: 'zstd', consistency: { mode, stopped: [], windowSeconds: 0 }, engines: {},
    components: { objects: record }, members: ctx.staging.members.map((m) => ({ name: m.name, component: m.component, size: m.size, sha256: m.sha256 })),
  };
  const archive = join(stack.root, `objects-${mode}.tar.zst`);
  await writeArchive({ finalPath: archive, codec: 'zstd', manifest, members: ctx.staging.members, mtime: new Date() });
  await ctx.staging.remove();
  return { archive, record, ctx };
}

async function restore(stack: FakeStack, config: StackConfig, component: Component, archive: string, record: ComponentRecord, situation: 'fresh' | 'in-place', damage?: (member: string, bytes: Buffer) => Buffer) {
  const ctx: RestoreContext = {
    config, docker: stack.docker, reporter: stack.reporter, runId: 'restore-1', signal: new AbortController().signal,
    containers: [...stack.docker.containers.values()].map((c) => c.info), situation, record, pipeDir: join(stack.root, 'pipes'), forceVersion: false,
  };
  const task = component.restore(ctx);
  await task.preflight();
  for await (const member of readArchiveMembers(archive)) {
    if (!member.name.startsWith('objects/')) {
      member.stream.resume();
      await new Promise((r) => member.stream.once('end', r));
      continue;
    }
    if (damage) {
      const chunks: Buffer[] = [];
      for await (const c of member.stream) chunks.push(c as Buffer);
      const { Readable } = await import('node:stream');
      await task.receive(member.name, Readable.from([damage(member.name, Buffer.concat(chunks))]));
    } else {
      await task.receive(member.name, member.stream);
    }
  }
  await task.load?.();
  return task;
}

function snapshot(store: FakeObjectStore): string {
  return JSON.stringify([...store.buckets].map(([name, b]) => [name, b.versioning, b.policy, [...b.objects].sort().map(([k, o]) => [k, o.data.toString('base64'), o.contentType, o.metadata, o.tags])]));
}

test('objectstore: every bucket and object comes back into an empty server, awkward keys, empty and multipart objects included', async (t) => {
  const source = new FakeObjectStore(ACCESS, PASSWORD);
  seed(source);
  const before = snapshot(source);
  const { stack, config, component } = await sample(t, source);
  assert.ok(component.planBackup(config).every((l) => !l.includes(PASSWORD) && !l.includes(ACCESS)));
  const { archive, record } = await backup(stack, config, component);
  assert.deepEqual(record.details, { buckets: ['assets', 'public'], objects: 7, listed: false });
  assert.equal(record.fingerprint.assets!.objects, 6);
  assert.equal(record.fingerprint.assets!.versioning, 1);
  assert.ok(record.fingerprint.assets!.policy! > 0);
  assert.ok(!JSON.stringify(record).includes(PASSWORD));
  assert.equal(source.openClients, 0, 'clients closed after the backup');

  // A fresh host: the same service answers, empty.
  const target = new FakeObjectStore(ACCESS, PASSWORD);
  serveObjectStore(stack, 'objectstore', target);
  const task = await restore(stack, config, component, archive, record, 'fresh');
  assert.equal(snapshot(target), before, 'buckets, settings, bytes, types, metadata and tags identical');
  assert.equal(target.completedMultipart, 1, 'the object above the threshold went back in parts');
  assert.equal(target.pendingUploads.size, 0);
  assert.deepEqual(compareFingerprints('objects', record.fingerprint, await task.fingerprint()), []);
  assert.equal(target.openClients, 0);
  const { readdir } = await import('node:fs/promises');
  assert.ok(!(await readdir(config.backupRoot)).some((n) => n.startsWith('.restore-')), 'the stashed bucket files are removed');
});

test('objectstore: in place over a changed server, the archived state comes back and a bucket added since is removed', async (t) => {
  const store = new FakeObjectStore(ACCESS, PASSWORD);
  seed(store);
  const before = snapshot(store);
  const { stack, config, component } = await sample(t, store);
  const { archive, record } = await backup(stack, config, component);
  store.put('assets', 'added later', 'new');
  store.bucket('assets').objects.delete('empty');
  store.put('public', 'index.html', '<html>changed</html>', { contentType: 'text/html', tags: { x: 'y' } });
  store.bucket('assets').policy = undefined;
  store.addBucket('scratch');
  store.put('scratch', 'tmp', 'x');
  const task = await restore(stack, config, component, archive, record, 'in-place');
  assert.equal(snapshot(store), before);
  assert.deepEqual(compareFingerprints('objects', record.fingerprint, await task.fingerprint()), []);
});

test('objectstore: a damaged bucket member is refused before the server changes', async (t) => {
  const store = new FakeObjectStore(ACCESS, PASSWORD);
  seed(store);
  const { stack, config, component } = await sample(t, store);
  const { archive, record } = await backup(stack, config, component);
  store.put('public', 'index.html', 'changed since');
  const changed = snapshot(store);
  for (const cut of [(b: Buffer) => b.subarray(0, b.length - 3000), (b: Buffer) => { const c = Buffer.from(b); c.write('{"kex"', 512); return c; }]) {
    await assert.rejects(
      restore(stack, config, component, archive, record, 'in-place', (name, bytes) => (name === 'objects/assets.tar' ? cut(bytes) : bytes)),
      (e: unknown) => e instanceof ArchiveError && e.message.includes('objects/assets.tar'),
    );
    assert.equal(snapshot(store), changed, 'nothing changed');
  }
});

test('objectstore: an object deleted between the listing and its copy in a hot backup is left out, and the record says live', async (t) => {
  const store = new FakeObjectStore(ACCESS, PASSWORD);
  seed(store);
  store.vanishAfterListing.add('with space.txt');
  const { stack, config, component } = await sample(t, store);
  const { record } = await backup(stack, config, component, 'hot');
  assert.equal(record.live, true);
  assert.equal(record.fingerprint.assets!.objects, 5);
});

test('objectstore: service and endpoint exclude each other; a small threshold is refused', () => {
  const keys = { accessKey: { env: 'A' }, secretKey: { env: 'B' } };
  assert.throws(() => objectStoreKind.parse({ service: 's', endpoint: 'http://x:9000', ...keys }, 'c'), ConfigError);
  assert.throws(() => objectStoreKind.parse({ service: 's', ...keys, multipartThreshold: 1024 }, 'c'), /at least 5 MiB/);
  assert.deepEqual(objectStoreKind.parse({ endpoint: 'https://s3.example.com/', ...keys }, 'c').endpoint, 'https://s3.example.com');
});

test('objectstore files: the settings of each mode, a service, one of volume and folder, keys optional, GNU tar image by default', () => {
  const refused = (raw: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(() => objectStoreKind.parse(raw, 'c'), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(raw));
  const parsed = objectStoreKind.parse({ mode: 'files', service: 'objectstore', folder: '${STACK_DIR}/objects' }, 'c');
  assert.deepEqual(parsed, { mode: 'files', service: 'objectstore', port: 9000, region: 'us-east-1', multipartThreshold: 16 * MIB, folder: '${STACK_DIR}/objects', image: 'hoss-local/gnutar:local' });
  const withKeys = objectStoreKind.parse({ mode: 'files', service: 'o', volume: 'data', image: 'my/tar:1', accessKey: { env: 'A' }, secretKey: { env: 'B' } }, 'c');
  assert.deepEqual([withKeys.volume, withKeys.image, withKeys.accessKey], ['data', 'my/tar:1', { env: 'A' }]);
  refused({ mode: 'files', volume: 'data' }, /"c" in mode "files" needs "service"/);
  refused({ mode: 'files', service: 'o' }, /exactly one of "volume" .* and "folder"/);
  refused({ mode: 'files', service: 'o', volume: 'data', folder: '/srv/objects' }, /exactly one of "volume"/);
  refused({ mode: 'files', service: 'o', volume: 'data', accessKey: { env: 'A' } }, /needs "accessKey" and "secretKey"/);
  refused({ mode: 'files', service: 'o', volume: 'data', buckets: ['assets'] }, /"c\.buckets" is a setting of mode "s3", not of mode "files"/);
  refused({ mode: 'files', endpoint: 'http://x:9000', volume: 'data' }, /"c\.endpoint" is a setting of mode "s3"/);
  refused({ service: 'o', accessKey: { env: 'A' }, secretKey: { env: 'B' }, volume: 'data' }, /"c\.volume" is a setting of mode "files", not of mode "s3"/);
  refused({ mode: 'files', service: 'o', volume: 'data', image: '' }, /"c\.image"/);
  refused({ mode: 'tape', service: 'o' }, /"c\.mode" must be one of s3, files/);
});

const setXattr = (file: string, name: string, value: string) => execFileSync('setfattr', ['-n', name, '-v', value, file]);
const xattrsOf = (dir: string) => execFileSync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '--absolute-names', '.'], { cwd: dir }).toString();

/** A server whose data is the volume `data`, or (inFolder) the host folder <STACK_DIR>/objects. */
async function filesSample(t: TestContext, extraEnv: Record<string, string> = {}, inFolder = false) {
  const where = inFolder ? { folder: '${STACK_DIR}/objects' } : { volume: 'data' };
  const profile = validateProfile({
    name: 'objects', configDirVariable: 'STACK_DIR', defaultConfigDir: '~/stack', defaultProject: 'objects', versionVariable: 'STACK_VERSION',
    backupRootDefault: '${STACK_DIR}/backup', helperImage: 'busybox',
    components: [{ id: 'objects', kind: 'objectstore', config: { mode: 'files', service: 'objectstore', ...where, image: 'gnutar' } }],
  });
  const stack = await buildStack(t, (root) => ({
    profile, project: 'objects', env: { COMPOSE_PROJECT_NAME: 'objects', STACK_VERSION: '1', ...extraEnv },
    services: [{ service: 'objectstore', ...(inFolder ? { binds: { '/data': join(root, 'stack', 'objects') } } : { volumes: { '/data': 'data' } }) }, { service: 'brig' }],
  }));
  stack.docker.images.add('gnutar');
  const data = inFolder ? join(stack.configDir, 'objects') : stack.volumePath('data');
  await mkdir(join(data, 'assets', 'odd'), { recursive: true });
  await writeFile(join(data, 'assets', 'with space.txt'), 'spaces');
  await writeFile(join(data, 'assets', 'odd', 'ファイル.bin'), Buffer.from([0, 1, 2, 255]));
  await writeFile(join(data, 'assets', 'empty'), '');
  setXattr(join(data, 'assets'), 'user.owner', 'admin');
  setXattr(join(data, 'assets', 'with space.txt'), 'user.content-type', 'text/plain');
  setXattr(join(data, 'assets', 'with space.txt'), 'user.x-amz-meta-owner', 'alice');
  setXattr(join(data, 'assets', 'odd', 'ファイル.bin'), 'user.etag', '0xdeadbeef');
  await mkdir(join(stack.root, 'pipes'), { recursive: true });
  const config = await stack.config();
  return { stack, config, component: config.components[0]!, data };
}

test('objectstore files: the data volume comes back with every extended attribute, and the fingerprint counts them', async (t) => {
  const { stack, config, component, data } = await filesSample(t);
  assert.deepEqual(component.keepRunning(), [], 'the server is stopped with the writers');
  assert.deepEqual(config.dataServices, []);
  const before = xattrsOf(data);
  const { archive, record } = await backup(stack, config, component);
  assert.deepEqual(Object.keys(record.fingerprint), ['data']);
  assert.equal(record.fingerprint.data!.xattrs, 4);
  assert.equal(record.fingerprint.data!.entries, 5);
  assert.deepEqual(stack.docker.helpers.filter((h) => h.script === 'tar-out').map((h) => h.purpose), ['backup objects volume objects_data']);

  await rm(data, { recursive: true, force: true });
  await mkdir(data);
  await writeFile(join(data, 'stale'), 'from after the backup');
  const task = await restore(stack, config, component, archive, record, 'in-place');
  assert.equal(xattrsOf(data), before, 'every attribute on disk again');
  assert.deepEqual(compareFingerprints('objects', record.fingerprint, await task.fingerprint()), []);

  // An attribute changed after the restore is a difference the proof names.
  setXattr(join(data, 'assets', 'with space.txt'), 'user.content-type', 'text/html');
  const recount = component.restore({ config, docker: stack.docker, reporter: stack.reporter, runId: 'recount', signal: new AbortController().signal, containers: [], situation: 'in-place', record, pipeDir: join(stack.root, 'pipes'), forceVersion: false });
  assert.deepEqual(compareFingerprints('objects', record.fingerprint, await recount.fingerprint()).map((d) => d.key), ['data.xattrHash']);
});

test('objectstore files: a bind-mounted host folder, gone entirely, comes back on a fresh host with its attributes', async (t) => {
  const { stack, config, component, data } = await filesSample(t, {}, true);
  assert.deepEqual(component.hostPaths(), [{ what: 'the objects data folder', path: data }]);
  assert.equal(component.restoresInto('objects/data.tar'), 'host-folder');
  const before = xattrsOf(data);
  const { archive, record } = await backup(stack, config, component);
  await rm(data, { recursive: true, force: true });
  const task = await restore(stack, config, component, archive, record, 'fresh');
  assert.equal(xattrsOf(data), before);
  assert.deepEqual(compareFingerprints('objects', record.fingerprint, await task.fingerprint()), []);
});

test('objectstore files: a stack that keeps the server running, or a host without the image, is refused before anything is copied', async (t) => {
  const kept = await filesSample(t, { HOSSADM_DATA_SERVICES: 'objectstore' });
  await assert.rejects(backup(kept.stack, kept.config, kept.component), (e: unknown) => e instanceof ConfigError && /HOSSADM_DATA_SERVICES/.test(e.hint ?? ''));
  const missing = await filesSample(t);
  missing.stack.docker.images.delete('gnutar');
  await assert.rejects(backup(missing.stack, missing.config, missing.component), (e: unknown) => e instanceof PreflightError && /image gnutar/.test(e.message));
  assert.deepEqual(missing.stack.docker.helpers, [], 'no helper ran');
});
