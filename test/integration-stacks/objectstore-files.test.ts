// The objectstore kind in mode "files" on the real engine: one versitygw
// server (posix backend, which keeps each object's content type, user
// metadata, tags and ETag in user.* extended attributes of its file) in a
// compose project of its own, with a profile file holding that data volume
// (and the .env a fresh host needs). Objects with awkward keys, metadata and tags; backup;
// the volume wiped; an in-place restore; then the disaster (project and
// volume gone, .env gone) and a fresh-host restore. Each time every object,
// its bytes, content type, metadata and tags are read back through the S3
// API, and the attributes on disk compared. A damaged member is refused
// with exit 7 and nothing changed.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { openS3, type ObjectStoreClient } from '../../src/components/objectstore/object-client.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { runCompose } from '../../src/docker/compose-cli.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { hossadm, hossadmOk } from '../integration/hossadm-support.ts';
import { timed as timedIn } from '../integration/stack-support.ts';
import { writeWithMemberDamaged } from '../support/damaged-archive.ts';

const docker = new EngineClient();
const project = `tobjfiles${process.pid}`;
const root = await mkdtemp(join(tmpdir(), 'hossadm-objfiles-'));
const app = join(root, 'app');
const conf = join(root, 'conf');
const backups = join(root, 'backups');
const composeFile = join(app, 'compose.yaml');
const emptyEnv = join(root, 'empty.env');
const volume = `${project}_s3data`;
const GNUTAR = 'hoss-local/gnutar:local';
const ACCESS = 'objfiles-access';
const SECRET = 'objfiles-secret-5b1d0c';

const COMPOSE = `
services:
  s3:
    image: hoss-local/versitygw:local
    init: true
    environment:
      ROOT_ACCESS_KEY: ${ACCESS}
      ROOT_SECRET_KEY: ${SECRET}
    volumes:
      - s3data:/data
volumes:
  s3data:
`;

const PROFILE = {
  name: 'objfiles',
  description: 'one versitygw server whose data volume is copied as files',
  configDirVariable: 'OBJFILES_DIR',
  defaultConfigDir: '~/objfiles',
  defaultProject: 'objfiles',
  versionVariable: 'OBJFILES_VERSION',
  marker: '.env',
  archivePrefix: 'objfiles-backup',
  backupRootDefault: '${OBJFILES_DIR}/backup',
  helperImage: 'hoss-local/busybox:local',
  components: [
    // The .env a fresh host needs back before the stack can start.
    { id: 'config', kind: 'folder', config: { root: '${OBJFILES_DIR}', entries: ['.env'], required: ['.env'] } },
    { id: 'objects', kind: 'objectstore', config: { mode: 'files', service: 's3', volume: 's3data' } },
  ],
};

const LONG = `long/${'k'.repeat(200)}`;
const OBJECTS: { bucket: string; key: string; body: Buffer; contentType?: string; metadata?: Record<string, string>; tags?: Record<string, string> }[] = [
  { bucket: 'assets', key: 'with space.txt', body: Buffer.from('spaces in the key'), contentType: 'text/plain', metadata: { owner: 'alice' }, tags: { kind: 'doc' } },
  { bucket: 'assets', key: 'ünïcødé/ファイル.bin', body: Buffer.from([0, 1, 2, 255, 254]), contentType: 'application/octet-stream', metadata: { 'user-id': '42' } },
  { bucket: 'assets', key: 'deep/a/b/c/d.json', body: Buffer.from('{"deep":true}'), contentType: 'application/json', tags: { a: '1', b: 'two words' } },
  { bucket: 'assets', key: 'empty', body: Buffer.alloc(0) },
  { bucket: 'assets', key: LONG, body: Buffer.from('long key') },
  { bucket: 'assets', key: 'big.bin', body: Buffer.alloc(3 * 1024 * 1024 + 17, 9), contentType: 'image/png', metadata: { size: 'big' } },
  { bucket: 'public', key: 'index.html', body: Buffer.from('<h1>files</h1>'), contentType: 'text/html', metadata: { 'cache-control-note': 'none' } },
];

const compose = (args: string[]) => runCompose({ project, files: [composeFile], envFile: emptyEnv, env: process.env }, args, { echo: () => undefined });
const tool = (args: string[]) => hossadm(['--config-dir', conf, ...args], {});
const toolOk = (args: string[]) => hossadmOk(['--config-dir', conf, ...args], {});
const times: Record<string, number> = {};

const timed = <T>(name: string, work: () => Promise<T>) => timedIn(times, name, work);

async function server() {
  const found = (await projectContainers(docker, project)).find((c) => c.service === 's3');
  if (!found) throw new Error('service s3 has no container');
  return found;
}

/** A client at the server's address, once it answers (a started container needs a moment). */
async function withS3<T>(work: (s3: ObjectStoreClient) => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const s3 = openS3({ endpoint: `http://${await docker.containerAddress((await server()).id)}:9000`, region: 'us-east-1', accessKey: ACCESS, secretKey: SECRET });
    try {
      await s3.listBuckets();
      return await work(s3);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    } finally {
      await s3.close();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every bucket, key, sha256 of the bytes, content type, metadata and tags, as the S3 API answers. */
async function readObjects(): Promise<string[]> {
  return withS3(async (s3) => {
    const lines: string[] = [];
    for (const bucket of (await s3.listBuckets()).sort()) {
      for await (const { key } of s3.listKeys(bucket)) {
        const got = (await s3.getObject(bucket, key))!;
        const sha = createHash('sha256').update(Buffer.concat(await got.body.toArray())).digest('hex');
        const tags = Object.entries(await s3.tags(bucket, key)).sort();
        lines.push(JSON.stringify([bucket, key, got.size, sha, got.contentType, got.metadata, Object.fromEntries(tags)]));
      }
    }
    return lines.sort();
  });
}

/** Every extended attribute in the volume, read by getfattr in the GNU tar image. */
async function xattrsOnDisk(): Promise<string> {
  const result = await docker.runHelper({
    image: GNUTAR,
    argv: ['sh', '-c', `cd /d && getfattr -R -P -h -d -m - -e text --absolute-names . | awk '/^# file: /{f=substr($0,9);next} /=/{print f" "$0}' | LC_ALL=C sort`],
    mounts: [{ source: volume, target: '/d', readOnly: true }],
    purpose: 'test xattrs',
    runId: `objfiles-${process.pid}`,
  });
  assert.equal(result.exitCode, 0, result.stderr);
  return result.stdout;
}

async function wipeVolume(): Promise<void> {
  const result = await docker.runHelper({
    image: GNUTAR,
    argv: ['sh', '-c', 'find /d -mindepth 1 -maxdepth 1 -exec rm -rf {} +'],
    mounts: [{ source: volume, target: '/d' }],
    purpose: 'test wipe',
    runId: `objfiles-${process.pid}`,
  });
  assert.equal(result.exitCode, 0, result.stderr);
}

// versitygw answers application/octet-stream for an object stored without a content type.
const expected = OBJECTS.map((o) =>
  JSON.stringify([o.bucket, o.key, o.body.length, createHash('sha256').update(o.body).digest('hex'), o.contentType ?? 'application/octet-stream', o.metadata ?? {}, o.tags ?? {}]),
).sort();
let archive: string;
let savedXattrs: string;

before(async () => {
  await mkdir(app, { recursive: true });
  await mkdir(conf, { recursive: true });
  await writeFile(composeFile, COMPOSE);
  await writeFile(emptyEnv, '');
  await writeFile(join(conf, '.env'), `COMPOSE_PROJECT_NAME=${project}\nCOMPOSE_FILE=${composeFile}\nBACKUP_ROOT=${backups}\n`, { mode: 0o600 });
  await writeFile(join(conf, 'hossadm-profile.json'), JSON.stringify(PROFILE, null, 2));
  await timed('up', () => compose(['up', '-d']));
  await withS3(async (s3) => {
    for (const bucket of new Set(OBJECTS.map((o) => o.bucket))) await s3.createBucket(bucket);
    for (const o of OBJECTS) {
      await s3.putObject(o.bucket, o.key, Readable.from([o.body]), o.body.length, { contentType: o.contentType, metadata: o.metadata ?? {}, tags: o.tags ?? {} });
    }
  });
});

after(async () => {
  await compose(['down', '-v', '--remove-orphans']).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
  process.stderr.write(`objectstore files times (s): ${JSON.stringify(times)}\n`);
});

test('the seeded objects read back through the S3 API, their metadata in user.* attributes on disk', async () => {
  assert.deepEqual(await readObjects(), expected);
  savedXattrs = await xattrsOnDisk();
  assert.match(savedXattrs, /^\.\/assets\/with space\.txt user\.content-type="text\/plain"$/m, 'the content type in an attribute');
  assert.match(savedXattrs, /^\.\/assets\/with space\.txt user\.metadata=".*alice/m, 'user metadata in an attribute');
  assert.match(savedXattrs, /^\.\/assets\/with space\.txt user\.X-Amz-Tagging=".*doc/m, 'tags in an attribute');
});

test('backup stops the server for the copy only and saves the volume as one member', async () => {
  const before = await readObjects();
  const run = await timed('backup', () => toolOk(['backup', '--yes', '--json']));
  const result = JSON.parse(run.stdout) as { archive: string; members: { name: string }[]; consistency: { stopped: { service: string }[] } };
  archive = result.archive;
  assert.match(archive, /\/objfiles-backup-\d{8}T\d{6}Z\.tar\.zst$/);
  assert.deepEqual(result.members.map((m) => m.name).sort(), ['config/tree.tar', 'objects/data.tar', 'stack.env']);
  assert.deepEqual(result.consistency.stopped.map((s) => s.service), ['s3']);
  assert.equal((await server()).state, 'running');
  assert.deepEqual(await readObjects(), before, 'a backup changes nothing');
});

test('in place: the volume wiped, restored with the server stopped, every object and attribute back', async () => {
  await docker.stopContainer((await server()).id, 10);
  await wipeVolume();
  await docker.startContainer((await server()).id);
  assert.deepEqual(await withS3((s3) => s3.listBuckets()), [], 'the server really lost everything');

  const run = await timed('in-place restore', () => toolOk(['restore', '--yes', archive]));
  assert.match(run.stdout, /\(in place\)/);
  assert.match(run.stdout, /content matches the manifest/);
  assert.equal((await server()).state, 'running');
  assert.equal(await xattrsOnDisk(), savedXattrs);
  assert.deepEqual(await readObjects(), expected);
});

test('a damaged data member is refused with exit 7 before anything changes', async () => {
  const damaged = join(root, 'damaged.tar.zst');
  await writeWithMemberDamaged(archive, 'objects/data.tar', damaged);
  const run = await tool(['restore', '--yes', damaged]);
  assert.equal(run.code, 7, run.stderr);
  assert.match(run.stderr, /objects\/data\.tar/);
  assert.equal((await server()).state, 'running');
  assert.deepEqual(await readObjects(), expected);
  assert.equal(await xattrsOnDisk(), savedXattrs);
});

test('fresh host: project, volume and .env gone, the restore makes the volume and starts the server on it', async () => {
  await compose(['down', '-v']);
  assert.equal(await docker.inspectVolume(volume), undefined, 'the volume is gone');
  await rm(join(conf, '.env'));
  assert.deepEqual(await readdir(conf), ['hossadm-profile.json']);

  const run = await timed('fresh restore', () => toolOk(['restore', '--yes', archive]));
  assert.match(run.stdout, /\(fresh host\)/);
  assert.match(run.stdout, /content matches the manifest/);
  assert.equal(await xattrsOnDisk(), savedXattrs);
  assert.deepEqual(await readObjects(), expected);
});
