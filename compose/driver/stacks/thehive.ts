// The TheHive reference stack (compose/thehive): Cassandra, Elasticsearch
// and the TheHive stand-in, driven by the same verbs as HOSS. Also the
// helpers tests need: the stand-in's write switch and the cross-store
// consistency counts.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { docker, say } from '../runtime.ts';
import { ensureEngine, ensureImages } from '../scripts.ts';
import { upTimeoutSeconds } from '../verbs/up.ts';
import { ensureTheHiveEnv, prepareTheHiveFolders } from '../thehive/config-folder.ts';
import { checkTheHiveDir, loadTheHiveContext, THEHIVE_SERVICES, theHiveComposeProject, theHiveDirFromEnv, type TheHiveContext } from '../thehive/context.ts';
import { computeTheHiveFingerprint, readTheHiveConsistency, type TheHiveConsistency } from '../thehive/fingerprint.ts';
import { waitForTheHive } from '../thehive/readiness.ts';
import { resetTheHive } from '../thehive/reset.ts';
import { seedTheHive } from '../thehive/seed.ts';
import { execInTheHive } from '../thehive/services.ts';
import { renderFingerprint } from '../verbs/fingerprint.ts';
import type { StackModule } from './types.ts';

export { loadTheHiveContext, readTheHiveConsistency, type TheHiveConsistency, type TheHiveContext };

/** While this file exists in the thehive container, the stand-in creates cases. */
export const THEHIVE_SWITCH = '/tmp/thehive-writing';

export async function setTheHiveWriting(ctx: TheHiveContext, on: boolean): Promise<void> {
  await execInTheHive(ctx, 'thehive', on ? ['touch', THEHIVE_SWITCH] : ['rm', '-f', THEHIVE_SWITCH]);
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

async function up(dir: string): Promise<void> {
  const started = Date.now();
  const timeout = upTimeoutSeconds();
  await checkTheHiveDir(dir);
  await ensureEngine();
  await docker.ping();
  await ensureTheHiveEnv(dir);
  const ctx = await loadTheHiveContext(dir);
  await ensureImages(['busybox', 'cassandra', 'elasticsearch']);
  await prepareTheHiveFolders(ctx);
  say(`starting project ${ctx.project} (${THEHIVE_SERVICES.join(' ')}) from ${ctx.dir}`);
  await runCompose(theHiveComposeProject(ctx), ['up', '-d', '--remove-orphans']);
  await waitForTheHive(ctx, timeout);
  say(`stack ${ctx.project} is up (${Math.round((Date.now() - started) / 1000)} s)`);
}

async function seed(dir: string, scale: number): Promise<void> {
  const started = Date.now();
  const ctx = await loadTheHiveContext(dir);
  await docker.ping();
  await waitForTheHive(ctx, 30, THEHIVE_SERVICES, false);
  await seedTheHive(ctx, scale);
  say(`seed --scale ${scale} done in ${seconds(started)} s`);
}

async function fingerprint(dir: string): Promise<string> {
  const started = Date.now();
  const ctx = await loadTheHiveContext(dir);
  await docker.ping();
  // A stack at rest: just started (a restore, a restart), TheHive may still
  // be rebuilding its index; the fingerprint waits for it to report ready.
  await waitForTheHive(ctx, upTimeoutSeconds(), THEHIVE_SERVICES, false);
  const document = await computeTheHiveFingerprint(ctx);
  const text = renderFingerprint(document);
  say(`fingerprint of ${ctx.project} in ${seconds(started)} s`);
  return text;
}

async function down(dir: string): Promise<void> {
  const ctx = await loadTheHiveContext(dir);
  await docker.ping();
  await runCompose(theHiveComposeProject(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}

export const theHiveStack: StackModule = {
  name: 'thehive',
  dirFromEnv: theHiveDirFromEnv,
  up,
  seed,
  fingerprint,
  reset: resetTheHive,
  down,
};
