// The CyberSift reference stack (compose/cybersift): Elasticsearch, Redis,
// the models and NiFi flow folders and the CyberSift stand-in, driven by the
// same verbs as HOSS. Also what tests need: the stand-in's write switch and
// its transaction check.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { ensureStackEnv } from '../env-template.ts';
import { docker, runHelperScript, say } from '../runtime.ts';
import { ensureEngine, ensureImages } from '../scripts.ts';
import { upTimeoutSeconds } from '../verbs/up.ts';
import { renderFingerprint } from '../verbs/fingerprint.ts';
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

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

function ensureEnv(dir: string): Promise<boolean> {
  return ensureStackEnv(dir, {
    defaultProject: 'cybersift',
    composeFiles: CYBERSIFT_COMPOSE_FILES,
    version: async () => (await readFile(join(CYBERSIFT_COMPOSE_DIR, 'VERSION'), 'utf8')).trim(),
    render: (input) => renderCyberSiftEnv({ dir, ...input }),
    holds: 'a new Redis password',
  });
}

/** The bind sources, made and handed to their uids before compose starts anything. */
async function prepareFolders(ctx: CyberSiftContext): Promise<void> {
  for (const dir of [ctx.elasticsearchData, ctx.redisData, ctx.models, ctx.flows, ctx.snapshots, join(ctx.backupRoot, 'backups')]) await mkdir(dir, { recursive: true });
  await runHelperScript({
    script: 'chown "$1" /elasticsearch /snapshots && chown "$2" /redis && chown "$3" /models /flows',
    args: [ELASTICSEARCH_OWNER, REDIS_OWNER, CYBERSIFT_OWNER],
    mounts: [
      { source: ctx.elasticsearchData, target: '/elasticsearch' },
      { source: ctx.snapshots, target: '/snapshots' },
      { source: ctx.redisData, target: '/redis' },
      { source: ctx.models, target: '/models' },
      { source: ctx.flows, target: '/flows' },
    ],
    purpose: 'own cybersift folders',
  });
}

async function up(dir: string): Promise<void> {
  const started = Date.now();
  await checkCyberSiftDir(dir);
  await ensureEngine();
  await docker.ping();
  await ensureEnv(dir);
  const ctx = await loadCyberSiftContext(dir);
  await ensureImages(['busybox', 'elasticsearch', 'redis', 'rabbitmq']);
  await prepareFolders(ctx);
  say(`starting project ${ctx.project} (${CYBERSIFT_SERVICES.join(' ')}) from ${ctx.dir}`);
  await runCompose(cyberSiftComposeProject(ctx), ['up', '-d', '--remove-orphans']);
  await waitForCyberSift(ctx, upTimeoutSeconds());
  say(`stack ${ctx.project} is up (${seconds(started)} s)`);
}

async function seed(dir: string, scale: number): Promise<void> {
  const started = Date.now();
  const ctx = await loadCyberSiftContext(dir);
  await docker.ping();
  await waitForCyberSift(ctx, 30, false);
  await seedCyberSift(ctx, scale);
  say(`seed --scale ${scale} done in ${seconds(started)} s`);
}

async function fingerprint(dir: string): Promise<string> {
  const started = Date.now();
  const ctx = await loadCyberSiftContext(dir);
  await docker.ping();
  await waitForCyberSift(ctx, upTimeoutSeconds(), false);
  const text = renderFingerprint(await computeCyberSiftFingerprint(ctx));
  say(`fingerprint of ${ctx.project} in ${seconds(started)} s`);
  return text;
}

async function down(dir: string): Promise<void> {
  const ctx = await loadCyberSiftContext(dir);
  await docker.ping();
  await runCompose(cyberSiftComposeProject(ctx), ['down', '--remove-orphans']);
  say(`stack ${ctx.project} is down; its data is kept`);
}

export const cyberSiftStack: StackModule = {
  name: 'cybersift',
  dirFromEnv: cyberSiftDirFromEnv,
  up,
  seed,
  fingerprint,
  reset: resetCyberSift,
  down,
};
