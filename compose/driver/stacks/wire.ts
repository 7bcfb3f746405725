// The Wire reference stack (compose/wire): a two-node Cassandra cluster,
// the object store (versitygw), the installation folder and the brig
// stand-in, driven by the same verbs as HOSS. Also the helpers tests need:
// brig's write switch and the users-versus-assets consistency counts.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { downStack, fingerprintStack, type ReferenceStack, seedStack, upStack } from '../stack-verbs.ts';
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

// The final wait of `up` includes brig; seed and fingerprint wait for the data services only.
const stack: ReferenceStack<WireContext> = {
  load: loadWireContext,
  compose: wireComposeProject,
  wait: (ctx, timeoutSeconds, withBrig) => waitForWire(ctx, timeoutSeconds, withBrig),
};

function up(dir: string): Promise<void> {
  return upStack(dir, stack, {
    checkDir: checkWireDir,
    ensureEnv: ensureWireEnv,
    images: () => ['busybox', 'cassandra', 'versitygw'],
    prepare: prepareWireFolders,
    // The second node joins once the first answers (compose waits for its health), then the schema, then brig.
    services: () => [...CASSANDRA_NODES, 'objectstore'],
    only: true,
    async afterUp(ctx, timeoutSeconds) {
      await waitForWire(ctx, timeoutSeconds, false);
      await ensureWireSchema(ctx);
      await runCompose(wireComposeProject(ctx), ['up', '-d', 'brig']);
    },
  });
}

export const wireStack: StackModule = {
  name: 'wire',
  dirFromEnv: wireDirFromEnv,
  up,
  seed: (dir, scale) => seedStack(dir, scale, stack, seedWire, 60),
  fingerprint: (dir) => fingerprintStack(dir, stack, computeWireFingerprint),
  reset: resetWire,
  down: (dir) => downStack(dir, stack),
};
