// The Wire reference stack (compose/wire): a two-node Cassandra cluster,
// the object store (versitygw), the installation folder and the brig
// stand-in, driven by the same verbs as HOSS. Also the helpers tests need:
// brig's write switch and the users-versus-assets consistency counts.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { docker, say } from '../runtime.ts';
import { ensureEngine, ensureImages } from '../scripts.ts';
import { renderFingerprint } from '../verbs/fingerprint.ts';
import { upTimeoutSeconds } from '../verbs/up.ts';
import { CASSANDRA_NODES, checkWireDir, loadWireContext, wireComposeProject, wireDirFromEnv, type WireContext } from '../wire/context.ts';
import { computeWireFingerprint, ensureWireSchema, execIn, readWireConsistency, seedWire, waitForWire, type WireConsistency } from '../wire/data.ts';
import { resetWire } from '../wire/reset.ts';
import { ensureWireEnv, prepareWireFolders } from '../wire/setup.ts';
import type { StackModule } from './types.ts';

export { loadWireContext, readWireConsistency, type WireConsistency, type WireContext };

/** While this file exists in the brig container, the stand-in creates users. */
export const BRIG_SWITCH = '/tmp/brig-writing';

export async function setBrigWriting(ctx: WireContext, on: boolean): Promise<void> {
  await execIn(ctx, 'brig', on ? ['touch', BRIG_SWITCH] : ['rm', '-f', BRIG_SWITCH]);
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

async function up(dir: string): Promise<void> {
  const started = Date.now();
  const timeout = upTimeoutSeconds();
  await checkWireDir(dir);
  await ensureEngine();
  await docker.ping();
  await ensureWireEnv(dir);
  const ctx = await loadWireContext(dir);
  await ensureImages(['busybox', 'cassandra', 'versitygw']);
  await prepareWireFolders(ctx);
  // The second node joins once the first answers (compose waits for its health), then the schema jobs, then brig.
  say(`starting project ${ctx.project} (${CASSANDRA_NODES.join(', ')}, objectstore) from ${ctx.dir}`);
  await runCompose(wireComposeProject(ctx), ['up', '-d', '--remove-orphans', ...CASSANDRA_NODES, 'objectstore']);
  await waitForWire(ctx, timeout, false);
  await ensureWireSchema(ctx);
  await runCompose(wireComposeProject(ctx), ['up', '-d', 'brig']);
  await waitForWire(ctx, timeout, true);
  say(`stack ${ctx.project} is up (${Math.round((Date.now() - started) / 1000)} s)`);
}

async function seed(dir: string, scale: number): Promise<void> {
  const started = Date.now();
  const ctx = await loadWireContext(dir);
  await docker.ping();
  await waitForWire(ctx, 60, false);
  await seedWire(ctx, scale);
  say(`seed --scale ${scale} done in ${seconds(started)} s`);
}

async function fingerprint(dir: string): Promise<string> {
  const started = Date.now();
  const ctx = await loadWireContext(dir);
  await docker.ping();
  await waitForWire(ctx, upTimeoutSeconds(), false);
  const text = renderFingerprint(await computeWireFingerprint(ctx));
  say(`fingerprint of ${ctx.project} in ${seconds(started)} s`);
  return text;
}

async function down(dir: string): Promise<void> {
  const ctx = await loadWireContext(dir);
  await docker.ping();
  await runCompose(wireComposeProject(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}

export const wireStack: StackModule = { name: 'wire', dirFromEnv: wireDirFromEnv, up, seed, fingerprint, reset: resetWire, down };
