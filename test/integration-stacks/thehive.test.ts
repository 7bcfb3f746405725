// hossadm with the thehive profile on the real engine and the TheHive
// reference stack (Cassandra 5.0, Elasticsearch 7.10.2, the stand-in's
// attachment files): a fresh-host round trip, an in-place restore over a
// changed stack, a hot backup while the stand-in writes, the "data and files
// only" option with the index rebuilt at start, and the failures that must
// stop a run before anything changes. One stack serves the whole file.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadTheHiveContext, readTheHiveConsistency, setTheHiveWriting, type TheHiveContext } from '../../compose/driver/stacks/thehive.ts';
import { es, esBase, withCql } from '../../compose/driver/thehive/services.ts';
import { EngineClient } from '../../src/docker/client.ts';
import { projectContainers } from '../../src/docker/compose-services.ts';
import { layoutOf } from '../integration/archive-mutations.ts';
import { rewriteArchive } from '../integration/archive-rewrite.ts';
import { hossadm, hossadmOk } from '../integration/hossadm-support.ts';
import { changedKeys, runStack, stackOk } from '../integration/stack-support.ts';

const root = await mkdtemp(join(tmpdir(), 'hossadm-thehive-'));
const dir = join(root, 'thehive');
const project = `tthehive${process.pid}`;
const env = { COMPOSE_PROJECT_NAME: project, THEHIVE_DIR: dir };
const docker = new EngineClient();
let ctx: TheHiveContext;
let seeded: string;
let archive: string;

const stack = (verb: string) => stackOk(['--stack', 'thehive', verb, '--dir', dir], env);
const tool = (args: string[]) => hossadm(['--profile', 'thehive', '--config-dir', dir, ...args], env);
const toolOk = (args: string[]) => hossadmOk(['--profile', 'thehive', '--config-dir', dir, ...args], env);
const fingerprint = () => stack('fingerprint');

async function containerStates(): Promise<string[]> {
  return (await projectContainers(docker, project)).map((c) => `${c.service}:${c.state}`).sort();
}

async function snapshotsOnCassandra(): Promise<string> {
  const cassandra = (await projectContainers(docker, project)).find((c) => c.service === 'cassandra')!;
  return (await docker.exec(cassandra.id, ['nodetool', 'listsnapshots'])).stdout;
}

async function healthy(service: string): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const container = (await projectContainers(docker, project)).find((c) => c.service === service)!;
    const status = (await docker.inspectContainer(container.id)).State.Health?.Status ?? 'none';
    if (status === 'healthy' || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

before(async () => {
  await stack('up');
  await stack('seed');
  ctx = await loadTheHiveContext(dir);
  seeded = await fingerprint();
});

after(async () => {
  await runStack(['--stack', 'thehive', 'reset', '--dir', dir], env);
  await rm(root, { recursive: true, force: true });
});

test('backup saves config, Cassandra, the index and the files, stopping only the stand-in', async () => {
  const run = await toolOk(['backup', '--yes', '--json']);
  const result = JSON.parse(run.stdout) as { archive: string; members: { name: string }[]; consistency: { mode: string; stopped: { service: string }[] } };
  archive = result.archive;
  assert.match(archive, /\/thehive-backup-\d{8}T\d{6}Z\.tar\.zst$/);
  assert.deepEqual(result.members.map((m) => m.name).sort(), ['config/tree.tar', 'db/cassandra.tar', 'db/schema.json', 'files/tree.tar', 'index/repository.tar', 'stack.env']);
  assert.deepEqual(result.consistency.stopped.map((s) => s.service), ['thehive']);
  assert.deepEqual(await containerStates(), ['cassandra:running', 'elasticsearch:running', 'thehive:running']);
  assert.doesNotMatch(await snapshotsOnCassandra(), /hossadm-/, 'the snapshot tag is cleared after the copy');
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(ctx.env.CASSANDRA_PASSWORD!), 'no password in the output');
  assert.deepEqual(changedKeys(seeded, await fingerprint()), [], 'a backup changes nothing');
});

test('fresh host: reset, restore, and every case, document and file is back', async () => {
  await stack('reset');
  const run = await toolOk(['restore', '--yes', archive]);
  assert.match(run.stdout, /\(fresh host\)/);
  assert.match(run.stdout, /content matches the manifest/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.equal(await healthy('thehive'), 'healthy');
});

test('in place over a changed stack: rows added and deleted, an index added, a file changed', async () => {
  await setTheHiveWriting(ctx, true);
  await new Promise((r) => setTimeout(r, 3000));
  await setTheHiveWriting(ctx, false);
  await withCql(ctx, async (client) => {
    const some = await client.execute(`SELECT id FROM ${ctx.keyspace}.cases LIMIT 3`);
    for (const row of some.rows) await client.execute(`DELETE FROM ${ctx.keyspace}.cases WHERE id = ?`, [row.get('id')], { prepare: true });
    await client.execute(`CREATE TABLE IF NOT EXISTS ${ctx.keyspace}.added_later (id int PRIMARY KEY, v text)`);
    await client.execute(`INSERT INTO ${ctx.keyspace}.added_later (id, v) VALUES (1, 'stale')`);
  });
  const base = await esBase(ctx);
  await es(base, 'PUT', '/added-after-backup', { settings: { number_of_replicas: 0 } });
  const shard = (await readdir(ctx.files)).sort()[0]!;
  const file = join(ctx.files, shard, (await readdir(join(ctx.files, shard))).sort()[0]!);
  await writeFile(file, 'changed after the backup');
  assert.ok(changedKeys(seeded, await fingerprint()).length > 0, 'the stack really changed');

  const run = await toolOk(['restore', '--yes', archive]);
  assert.match(run.stdout, /\(in place\)/);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), []);
  assert.deepEqual(await containerStates(), ['cassandra:running', 'elasticsearch:running', 'thehive:running']);
});

test('a hot backup while the stand-in writes: no case loses its file, and the manifest says it was copied live', async () => {
  await setTheHiveWriting(ctx, true);
  let hot: string;
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const run = await toolOk(['backup', '--yes', '--hot', '--json']);
    hot = (JSON.parse(run.stdout) as { archive: string }).archive;
    assert.deepEqual((JSON.parse(run.stdout) as { consistency: { stopped: unknown[] } }).consistency.stopped, [], 'nothing stopped');
  } finally {
    await setTheHiveWriting(ctx, false);
  }
  const manifest = JSON.parse(execFileSync('sh', ['-c', `zstd -dc ${hot} | tar -xOf - manifest.json`]).toString()) as { consistency: { mode: string }; components: Record<string, { live: boolean }> };
  assert.equal(manifest.consistency.mode, 'hot');
  assert.deepEqual(['db', 'index', 'files'].map((id) => manifest.components[id]!.live), [true, true, true]);

  await stack('reset');
  const restored = await toolOk(['restore', '--yes', hot]);
  assert.match(restored.stdout, /\(fresh host\)/);
  const consistency = await readTheHiveConsistency(await loadTheHiveContext(dir));
  // The stand-in writes a case's file, then its row, then its document; the
  // snapshots are taken in the profile's order (Cassandra, index, files), so
  // every restored row has its file, and only cases written between two
  // snapshots can lack a document or have one without a row.
  assert.equal(consistency.casesWithoutFile, 0);
  assert.equal(consistency.fileHashMismatches, 0);
  assert.ok(consistency.casesWithoutDocument + consistency.documentsWithoutCase <= 40, JSON.stringify(consistency));
  assert.ok(consistency.cases > 0);
});

test('"data and files only": the index stays out of the archive and is rebuilt from Cassandra at start', async () => {
  // Back to the seeded state first, so the rebuilt index can be compared with it.
  await toolOk(['restore', '--yes', archive]);
  const run = await toolOk(['backup', '--yes', '--without', 'index', '--json']);
  const result = JSON.parse(run.stdout) as { archive: string; members: { name: string }[] };
  assert.ok(!result.members.some((m) => m.name.startsWith('index/')), 'no index member');
  const plan = await toolOk(['restore', '--dry-run', result.archive]);
  assert.match(plan.stdout, /index: not in this archive/);

  await stack('reset');
  const restored = await toolOk(['restore', '--yes', result.archive]);
  assert.match(restored.stdout, /content matches the manifest/);
  assert.equal(await healthy('thehive'), 'healthy');
  const consistency = await readTheHiveConsistency(await loadTheHiveContext(dir));
  assert.equal(consistency.documents, consistency.cases, 'every case indexed again');
  assert.equal(consistency.casesWithoutDocument, 0);
  assert.deepEqual(changedKeys(seeded, await fingerprint()), [], 'the rebuilt index equals the saved one');
});

test('a failing nodetool snapshot fails the backup with its output, leaves no archive and no snapshot, and restarts the stand-in', async () => {
  const cassandra = (await projectContainers(docker, project)).find((c) => c.service === 'cassandra')!;
  const path = (await docker.exec(cassandra.id, ['sh', '-c', 'command -v nodetool'])).stdout.trim();
  const before = (await readdir(join(ctx.backupRoot, 'backups'))).sort();
  // Every nodetool verb works but snapshot, which fails as a full disk would make it.
  await docker.exec(cassandra.id, ['sh', '-c', `mv ${path} ${path}.real && printf '#!/bin/sh\\ncase "$1" in snapshot) echo "error: No space left on device" >&2; exit 2;; esac\\nexec ${path}.real "$@"\\n' > ${path} && chmod 755 ${path}`], { user: '0' });
  try {
    const run = await tool(['backup', '--yes']);
    assert.equal(run.code, 8, run.stderr);
    assert.match(run.stderr, /nodetool snapshot .*failed/);
    assert.equal(run.stderr.trim().split('\n').filter((l) => l.startsWith('hossadm:')).length, 1, 'one line');
  } finally {
    await docker.exec(cassandra.id, ['sh', '-c', `mv ${path}.real ${path}`], { user: '0' });
  }
  assert.deepEqual((await readdir(join(ctx.backupRoot, 'backups'))).sort(), before, 'no archive, no partial');
  assert.doesNotMatch(await snapshotsOnCassandra(), /hossadm-/);
  assert.deepEqual(await containerStates(), ['cassandra:running', 'elasticsearch:running', 'thehive:running']);
});

test('damaged members of each new kind, a Cassandra major skew and a red index are refused before anything changes', async () => {
  const now = await fingerprint();
  const bytes = await readFile(archive);
  const layout = layoutOf(bytes);
  for (const name of ['db/cassandra.tar', 'db/schema.json', 'index/repository.tar', 'files/tree.tar']) {
    const span = layout.members.find((m) => m.name === name)!;
    const damaged = Buffer.from(bytes);
    const at = span.dataStart + Math.floor((span.end - span.dataStart) / 2);
    damaged[at] = damaged[at]! ^ 0x5a;
    const path = join(root, `damaged-${name.replace(/\//g, '-')}.tar.zst`);
    await writeFile(path, damaged);
    const run = await tool(['restore', '--yes', path]);
    assert.equal(run.code, 7, `${name}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(name.replace('.', '\\.')), `${name} is named`);
  }

  const skewed = join(root, 'skewed.tar.zst');
  await rewriteArchive(archive, skewed, 'zstd', (m) => {
    (m.components as Record<string, { versions: Record<string, string> }>).db!.versions.cassandra = '4.1.10';
  });
  const skew = await tool(['restore', '--yes', skewed]);
  assert.equal(skew.code, 6, skew.stderr);
  assert.match(skew.stderr, /come from Cassandra 4\.1\.10, the running cluster is 5\./);

  const base = await esBase(ctx);
  await es(base, 'PUT', '/unassignable', { settings: { number_of_replicas: 0, 'index.routing.allocation.require._name': 'no-such-node' } });
  try {
    const red = await tool(['backup', '--yes']);
    assert.equal(red.code, 6, red.stderr);
    assert.match(red.stderr, /Elasticsearch cluster is red: .*unassignable/);
  } finally {
    await es(base, 'DELETE', '/unassignable');
  }
  assert.deepEqual(await containerStates(), ['cassandra:running', 'elasticsearch:running', 'thehive:running']);
  assert.deepEqual(changedKeys(now, await fingerprint()), [], 'refused runs change nothing');
});
