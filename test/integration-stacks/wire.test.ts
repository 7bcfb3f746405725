// hossadm with the wire profile on the real engine and the Wire reference
// stack (two Cassandra 5.0 nodes at replication factor 2, versitygw as the
// S3 object store, the installation folder, the brig stand-in): a backup
// refused while a node is down, a fresh-host round trip of both nodes and
// the object store, an in-place restore over a changed stack, a hot backup
// while brig writes, and damaged object-store members refused before
// anything changes. One stack serves the whole file; the fingerprint reads
// every row at consistency ALL.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadWireContext, readWireConsistency, setBrigWriting, type WireContext } from '../../compose/driver/stacks/wire.ts';
import { withCluster, withS3 } from '../../compose/driver/wire/data.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { hossadm, hossadmOk } from '../integration/hossadm-support.ts';
import { changedKeys, runStack, stackOk, timed as timedIn } from '../integration/stack-support.ts';
import { writeWithMemberDamaged } from '../support/damaged-archive.ts';

const root = await mkdtemp(join(tmpdir(), 'hossadm-wire-'));
const dir = join(root, 'wire');
const project = `twire${process.pid}`;
const env = { COMPOSE_PROJECT_NAME: project, WIRE_DIR: dir };
const docker = new EngineClient();
let ctx: WireContext;
let seeded: string;
let archive: string;
const times: Record<string, number> = {};

const stack = (verb: string, ...rest: string[]) => stackOk(['--stack', 'wire', verb, ...rest, '--dir', dir], env);
const tool = (args: string[]) => hossadm(['--profile', 'wire', '--config-dir', dir, ...args], env);
const toolOk = (args: string[]) => hossadmOk(['--profile', 'wire', '--config-dir', dir, ...args], env);
const fingerprint = () => stack('fingerprint');
const ALL_RUNNING = ['brig:running', 'cassandra1:running', 'cassandra2:running', 'objectstore:running'];

async function containerStates(): Promise<string[]> {
  return (await projectContainers(docker, project)).map((c) => `${c.service}:${c.state}`).sort();
}

async function container(service: string) {
  return (await projectContainers(docker, project)).find((c) => c.service === service)!;
}

async function ringUp(): Promise<number> {
  const out = (await docker.exec((await container('cassandra1')).id, ['nodetool', 'status'])).stdout;
  return out.split('\n').filter((l) => l.startsWith('UN ')).length;
}

const timed = <T>(name: string, work: () => Promise<T>) => timedIn(times, name, work);

before(async () => {
  await timed('up', () => stack('up'));
  await timed('seed', () => stack('seed'));
  ctx = await loadWireContext(dir);
  seeded = await timed('fingerprint', fingerprint);
});

after(async () => {
  await runStack(['--stack', 'wire', 'reset', '--dir', dir], env);
  await rm(root, { recursive: true, force: true });
  process.stderr.write(`wire stack times (s): ${JSON.stringify(times)}\n`);
});

test('backup saves the installation folder, both nodes and every bucket, stopping only brig', async () => {
  const run = await timed('backup', () => toolOk(['backup', '--yes', '--json']));
  const result = JSON.parse(run.stdout) as { archive: string; members: { name: string }[]; consistency: { stopped: { service: string }[] } };
  archive = result.archive;
  assert.match(archive, /\/wire-backup-\d{8}T\d{6}Z\.tar\.zst$/);
  assert.deepEqual(result.members.map((m) => m.name).sort(), ['assets/assets.tar', 'assets/buckets.json', 'db/cassandra1.tar', 'db/cassandra2.tar', 'db/schema.json', 'install/tree.tar', 'stack.env']);
  assert.deepEqual(result.consistency.stopped.map((s) => s.service), ['brig']);
  assert.deepEqual(await containerStates(), ALL_RUNNING);
  for (const secret of [ctx.env.S3_SECRET_KEY!, ctx.env.S3_ACCESS_KEY!]) assert.ok(!(run.stdout + run.stderr).includes(secret), 'no S3 key in the output');
  assert.deepEqual(changedKeys(seeded, await fingerprint()), [], 'a backup changes nothing');
});

test('a backup while one node is down is refused at pre-flight with one line naming the node', async () => {
  const node = await container('cassandra2');
  const before = (await readdir(join(ctx.backupRoot, 'backups'))).sort();
  await docker.stopContainer(node.id, 20);
  try {
    const run = await tool(['backup', '--yes']);
    assert.equal(run.code, 5, run.stderr);
    const lines = run.stderr.trim().split('\n').filter((l) => l.startsWith('hossadm:'));
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /service "cassandra2"\) is exited, not running/);
  } finally {
    // Not waited for: the next test destroys the stack anyway.
    await docker.startContainer(node.id);
  }
  assert.deepEqual((await readdir(join(ctx.backupRoot, 'backups'))).sort(), before, 'no archive, no partial');
});

test('fresh host: both nodes and the object store destroyed, restored, every row read back at consistency ALL', async () => {
  await stack('reset');
  const run = await timed('fresh restore', () => toolOk(['restore', '--yes', archive]));
  assert.match(run.stdout, /\(fresh host\)/);
  assert.match(run.stdout, /content matches the manifest/);
  // The fingerprint reads each table at consistency ALL: both replicas answered for every row.
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.equal(await ringUp(), 2);
  const replication = JSON.parse(seeded) as { cassandra: { replication: Record<string, string> } };
  assert.deepEqual(replication.cassandra.replication, { brig: '2', galley: '2', gundeck: '2', spar: '2' });
  // A count at consistency ALL: both replicas answer for every partition.
  const users = await withCluster(ctx, async (c) => (await c.execute('SELECT count(*) FROM brig.user')).rows[0]!.get(0) as { toNumber(): number });
  assert.equal(users.toNumber(), 40);
  assert.deepEqual((await readWireConsistency(ctx)).usersWithoutAsset, 0);
});

test('in place over a changed stack: users added and deleted, a table and a bucket added, an object and a secret changed', async () => {
  await setBrigWriting(ctx, true);
  await new Promise((r) => setTimeout(r, 3000));
  await setBrigWriting(ctx, false);
  await withCluster(ctx, async (c) => {
    const some = await c.execute('SELECT id FROM brig.user LIMIT 3');
    for (const row of some.rows) await c.execute('DELETE FROM brig.user WHERE id = ?', [row.get('id')]);
    await c.execute('CREATE TABLE IF NOT EXISTS galley.added_later (id int PRIMARY KEY, v text)');
    await c.execute('INSERT INTO galley.added_later (id, v) VALUES (1, ?)', ['stale']);
  });
  await withS3(ctx, async (s3) => {
    await s3.deleteObject(ctx.bucket, 'odd/empty');
    await s3.createBucket('added-later');
  });
  await writeFile(join(ctx.installation, 'secrets', 'zauth.txt'), 'changed after the backup\n');
  assert.ok(changedKeys(seeded, await fingerprint()).length > 0, 'the stack really changed');

  const run = await timed('in-place restore', () => toolOk(['restore', '--yes', archive]));
  assert.match(run.stdout, /\(in place\)/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.deepEqual(await containerStates(), ALL_RUNNING);
});

test('a hot backup while brig writes: every restored user has its asset, and the manifest says it was copied live', async () => {
  await setBrigWriting(ctx, true);
  let hot: string;
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const run = await timed('hot backup', () => toolOk(['backup', '--yes', '--hot', '--json']));
    const result = JSON.parse(run.stdout) as { archive: string; consistency: { stopped: unknown[] } };
    hot = result.archive;
    assert.deepEqual(result.consistency.stopped, [], 'nothing stopped');
  } finally {
    await setBrigWriting(ctx, false);
  }
  const manifest = JSON.parse(execFileSync('sh', ['-c', `zstd -dc ${hot} | tar -xOf - manifest.json`]).toString()) as { consistency: { mode: string }; components: Record<string, { live: boolean }> };
  assert.equal(manifest.consistency.mode, 'hot');
  assert.deepEqual(['db', 'assets'].map((id) => manifest.components[id]!.live), [true, true]);
  const plan = await toolOk(['restore', '--dry-run', hot]);
  assert.match(plan.stdout, /assets: .* replaced/);
  const restored = await toolOk(['restore', '--yes', hot]);
  assert.match(restored.stdout, /\(in place\)/);
  // brig writes the asset, then the row; the snapshot is taken before the buckets are copied.
  const consistency = await readWireConsistency(ctx);
  assert.equal(consistency.usersWithoutAsset, 0, JSON.stringify(consistency));
  assert.ok(consistency.users > 40, `brig wrote during the backup: ${JSON.stringify(consistency)}`);
});

test('damaged object-store members are refused before anything changes', async () => {
  const now = await fingerprint();
  for (const name of ['assets/assets.tar', 'assets/buckets.json']) {
    const path = join(root, `damaged-${name.replace(/\//g, '-')}.tar.zst`);
    await writeWithMemberDamaged(archive, name, path);
    const run = await tool(['restore', '--yes', path]);
    assert.equal(run.code, 7, `${name}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(name.replace('.', '\\.')), `${name} is named`);
  }
  assert.deepEqual(await containerStates(), ALL_RUNNING);
  assert.deepEqual(changedKeys(now, await fingerprint()), [], 'refused runs change nothing');
});
