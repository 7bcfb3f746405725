// The TheHive reference stack (compose/thehive): Cassandra, Elasticsearch
// and the TheHive stand-in, driven by the same verbs as HOSS. Also the
// helpers tests need: the stand-in's write switch and the cross-store
// consistency counts.
import { downStack, fingerprintStack, type ReferenceStack, seedStack, upStack } from '../stack-verbs.ts';
import { ensureTheHiveEnv, prepareTheHiveFolders } from '../thehive/config-folder.ts';
import { checkTheHiveDir, loadTheHiveContext, THEHIVE_SERVICES, theHiveComposeProject, theHiveDirFromEnv, type TheHiveContext } from '../thehive/context.ts';
import { computeTheHiveFingerprint, readTheHiveConsistency, type TheHiveConsistency } from '../thehive/fingerprint.ts';
import { waitForTheHive } from '../thehive/readiness.ts';
import { resetTheHive } from '../thehive/reset.ts';
import { seedTheHive } from '../thehive/seed.ts';
import { execInTheHive } from '../thehive/services.ts';
import type { StackModule } from './types.ts';

export { loadTheHiveContext, readTheHiveConsistency, type TheHiveConsistency, type TheHiveContext };

/** While this file exists in the thehive container, the stand-in creates cases. */
export const THEHIVE_SWITCH = '/tmp/thehive-writing';

export async function setTheHiveWriting(ctx: TheHiveContext, on: boolean): Promise<void> {
  await execInTheHive(ctx, 'thehive', on ? ['touch', THEHIVE_SWITCH] : ['rm', '-f', THEHIVE_SWITCH]);
}

const stack: ReferenceStack<TheHiveContext> = {
  load: loadTheHiveContext,
  compose: theHiveComposeProject,
  wait: (ctx, timeoutSeconds, verbose) => waitForTheHive(ctx, timeoutSeconds, THEHIVE_SERVICES, verbose),
};

function up(dir: string): Promise<void> {
  return upStack(dir, stack, {
    checkDir: checkTheHiveDir,
    ensureEnv: ensureTheHiveEnv,
    images: () => ['busybox', 'cassandra', 'elasticsearch'],
    prepare: prepareTheHiveFolders,
    services: () => THEHIVE_SERVICES,
  });
}

export const theHiveStack: StackModule = {
  name: 'thehive',
  dirFromEnv: theHiveDirFromEnv,
  up,
  seed: (dir, scale) => seedStack(dir, scale, stack, seedTheHive),
  fingerprint: (dir) => fingerprintStack(dir, stack, computeTheHiveFingerprint),
  reset: resetTheHive,
  down: (dir) => downStack(dir, stack),
};
