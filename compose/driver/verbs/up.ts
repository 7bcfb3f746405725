// up: engine, images, config folder (with .env on first use), compose up,
// then wait until every service answers.
import { runCompose } from '../../../src/docker/compose-cli.ts';
import { UsageError } from '../../../src/errors.ts';
import { ensureEnvFile, prepareFolders } from '../config-folder.ts';
import { checkHossDir, composeProject, loadContext, type ServiceName } from '../context.ts';
import { waitForServices } from '../readiness.ts';
import { docker, say } from '../runtime.ts';
import { ensureEngine, ensureImages } from '../scripts.ts';

const DEFAULT_TIMEOUT_SECONDS = 300;

/** The local image each service runs on (docker-compose.local.yaml); busybox is also the helper. */
const IMAGE_OF: Record<ServiceName, string> = {
  db: 'postgres',
  opensearch: 'opensearch',
  ldap: 'ldap',
  auth: 'busybox',
  rabbitmq: 'rabbitmq',
  core: 'postgres',
};

export function imagesFor(services: readonly ServiceName[]): string[] {
  const wanted = new Set(['busybox', ...services.map((s) => IMAGE_OF[s])]);
  return ['busybox', 'postgres', 'ldap', 'rabbitmq', 'opensearch'].filter((name) => wanted.has(name));
}

export function upTimeoutSeconds(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.HOSS_STACK_TIMEOUT;
  if (raw === undefined || raw === '') return DEFAULT_TIMEOUT_SECONDS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`HOSS_STACK_TIMEOUT must be a whole number of seconds, not "${raw}"`);
  return value;
}

export async function up(hossDir: string): Promise<void> {
  const started = Date.now();
  const timeout = upTimeoutSeconds();
  await checkHossDir(hossDir);
  await ensureEngine();
  await docker.ping();
  await ensureEnvFile(hossDir);
  const ctx = await loadContext(hossDir);
  await ensureImages(imagesFor(ctx.services));
  await prepareFolders(ctx);
  say(`starting project ${ctx.project} (${ctx.services.join(' ')}) from ${ctx.hossDir}`);
  await runCompose(composeProject(ctx), ['up', '-d', '--remove-orphans', ...ctx.services]);
  await waitForServices(ctx, timeout, ctx.services);
  say(`stack ${ctx.project} is up (${Math.round((Date.now() - started) / 1000)} s)`);
}
