// The CyberSift reference stack (compose/cybersift): Elasticsearch, Redis,
// the models and NiFi flow folders and the CyberSift stand-in, driven by the
// same verbs as HOSS. Also what tests need: the stand-in's write switch and
// its transaction check.
import { join } from 'node:path';
import { ensureStackEnv } from '../env-template.ts';
import { makeOwnedFolders } from '../stack-folder.ts';
import { downStack, fingerprintStack, type ReferenceStack, seedStack, upStack } from '../stack-verbs.ts';
import {
  checkCyberSiftDir, CYBERSIFT_COMPOSE_DIR, CYBERSIFT_COMPOSE_FILES, CYBERSIFT_OWNER, CYBERSIFT_SERVICES, cyberSiftComposeProject, cyberSiftDirFromEnv,
  ELASTICSEARCH_OWNER, loadCyberSiftContext, REDIS_OWNER, type CyberSiftContext,
} from '../cybersift/context.ts';
import { renderCyberSiftEnv } from '../cybersift/env-template.ts';
import { computeCyberSiftFingerprint, readCyberSiftConsistency, type CyberSiftConsistency } from '../cybersift/fingerprint.ts';
import { waitForCyberSift } from '../cybersift/readiness.ts';
import { resetCyberSift } from '../cybersift/reset.ts';
import { seedCyberSift } from '../cybersift/seed.ts';
import { execInCyberSift, withRedis } from '../cybersift/services.ts';
import type { StackModule } from './types.ts';

export { loadCyberSiftContext, readCyberSiftConsistency, withRedis, type CyberSiftConsistency, type CyberSiftContext };

/** While this file exists in the cybersift container, the stand-in writes. */
export const CYBERSIFT_SWITCH = '/tmp/cybersift-writing';

export async function setCyberSiftWriting(ctx: CyberSiftContext, on: boolean): Promise<void> {
  await execInCyberSift(ctx, 'cybersift', on ? ['touch', CYBERSIFT_SWITCH] : ['rm', '-f', CYBERSIFT_SWITCH]);
}

function ensureEnv(dir: string): Promise<boolean> {
  return ensureStackEnv(dir, {
    defaultProject: 'cybersift',
    composeFiles: CYBERSIFT_COMPOSE_FILES,
    composeDir: CYBERSIFT_COMPOSE_DIR,
    render: (input) => renderCyberSiftEnv({ dir, ...input }),
    holds: 'a new Redis password',
  });
}

/** The bind sources, made and handed to their uids before compose starts anything. */
function prepareFolders(ctx: CyberSiftContext): Promise<void> {
  return makeOwnedFolders(
    'own cybersift folders',
    [
      { owner: ELASTICSEARCH_OWNER, folders: { elasticsearch: ctx.elasticsearchData, snapshots: ctx.snapshots } },
      { owner: REDIS_OWNER, folders: { redis: ctx.redisData } },
      { owner: CYBERSIFT_OWNER, folders: { models: ctx.models, flows: ctx.flows } },
    ],
    [join(ctx.backupRoot, 'backups')],
  );
}

const stack: ReferenceStack<CyberSiftContext> = {
  load: loadCyberSiftContext,
  compose: cyberSiftComposeProject,
  wait: waitForCyberSift,
};

function up(dir: string): Promise<void> {
  return upStack(dir, stack, {
    checkDir: checkCyberSiftDir,
    ensureEnv,
    images: () => ['busybox', 'elasticsearch', 'redis', 'rabbitmq'],
    prepare: prepareFolders,
    services: () => CYBERSIFT_SERVICES,
    tenths: true,
  });
}

export const cyberSiftStack: StackModule = {
  name: 'cybersift',
  dirFromEnv: cyberSiftDirFromEnv,
  up,
  seed: (dir, scale) => seedStack(dir, scale, stack, seedCyberSift),
  fingerprint: (dir) => fingerprintStack(dir, stack, computeCyberSiftFingerprint),
  reset: resetCyberSift,
  down: (dir) => downStack(dir, stack),
};
