// Checks shared by the engine tests: what an archive says, and that a run
// left nothing behind on the fake engine or its host.
import assert from 'node:assert/strict';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyArchive } from '../../src/archive/verify-archive.ts';
import { parseManifest, type Manifest } from '../../src/core/manifest.ts';
import type { FakeStack } from './fake-stack.ts';
import { PASSWORD } from './fake-stack.ts';

export async function readManifest(archive: string): Promise<Manifest> {
  const verified = await verifyArchive(archive);
  return parseManifest(JSON.stringify(verified.manifest));
}

/** Every FIFO below `dir`. */
export async function fifosBelow(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(dir, { recursive: true }).catch(() => [] as string[])) {
    if ((await lstat(join(dir, name)).catch(() => undefined))?.isFIFO()) found.push(name);
  }
  return found;
}

/** No helper runs, every pipe is gone, every server connection is closed, nothing ran that the fakes did not know. */
export async function assertCleanEngine(stack: FakeStack): Promise<void> {
  const { docker } = stack;
  assert.deepEqual([...docker.liveHelpers.values()].map((h) => h.purpose), [], 'no helper container left');
  assert.deepEqual(await fifosBelow(stack.root), [], 'no pipe left');
  assert.deepEqual(docker.unhandledExecs, [], 'every exec was one the fakes answer');
  assert.deepEqual(docker.helpers.filter((h) => h.script === 'foreign').map((h) => h.purpose), [], 'helpers ran only the tree scripts');
  assert.deepEqual(docker.helpers.filter((h) => h.exitCode !== 0 && h.exitCode !== undefined).map((h) => `${h.purpose}: ${h.stderr}`), [], 'every helper succeeded');
  assert.deepEqual(docker.autoCreatedVolumes, [], 'no helper mounted a volume that did not exist');
  for (const pg of stack.postgres.values()) {
    assert.equal(pg.openClients, 0, `every connection to ${pg.service} closed`);
    assert.deepEqual(pg.unknownSql, []);
    assert.equal(pg.snapshots.size, 0, `no snapshot of ${pg.service} still exported`);
  }
  for (const search of stack.search.values()) {
    assert.equal(search.openTransports, 0, `every client of ${search.service} closed`);
    assert.deepEqual(search.unknownRequests, []);
    assert.deepEqual([...search.repositories.keys()], [], `no repository left registered on ${search.service}`);
  }
  // Secrets travel in the environment of an exec, never in an argv a process listing shows.
  for (const e of docker.execs) assert.ok(!e.argv.join(' ').includes(PASSWORD), `password in argv of ${e.argv[0]}`);
  for (const h of docker.helpers) assert.ok(!h.args.join(' ').includes(PASSWORD), `password in a helper's argv (${h.purpose})`);
}

export function assertWritersCycled(stack: FakeStack, events: readonly string[]): void {
  const stops = events.filter((e) => e.startsWith('stop ')).map((e) => e.slice(5)).sort();
  const starts = events.filter((e) => e.startsWith('start ')).map((e) => e.slice(6)).sort();
  assert.deepEqual(stops, stack.writers(), 'exactly the writers were stopped');
  assert.deepEqual(starts, stack.writers(), 'and started again');
  const lastStop = Math.max(...events.map((e, i) => (e.startsWith('stop ') ? i : -1)));
  const firstStart = events.findIndex((e) => e.startsWith('start '));
  assert.ok(lastStop < firstStart, `every stop comes before every start: ${events.join(', ')}`);
  assert.ok(stack.docker.states().every((s) => s.endsWith(':running')), `all run again: ${stack.docker.states().join(', ')}`);
}
