// up: engine, images, config folder (with .env on first use), compose up,
// then wait until every service answers.
import { ensureEnvFile, prepareFolders } from '../config-folder.ts';
import { checkHossDir, composeProject, loadContext, type ServiceName, type StackContext } from '../context.ts';
import { waitForServices } from '../readiness.ts';
import { type ReferenceStack, upStack, upTimeoutSeconds } from '../stack-verbs.ts';

/** HOSS for the shared sequences: the services .env's SERVICES names. */
export const hossStack: ReferenceStack<StackContext> = {
  load: loadContext,
  compose: composeProject,
  wait: (ctx, timeoutSeconds, verbose) => waitForServices(ctx, timeoutSeconds, ctx.services, verbose),
};

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
  // busybox and gnutar: the helpers hossadm copies volumes with (gnutar keeps LDAP's sparse map sparse).
  const wanted = new Set(['busybox', 'gnutar', ...services.map((s) => IMAGE_OF[s])]);
  return ['busybox', 'gnutar', 'postgres', 'ldap', 'rabbitmq', 'opensearch'].filter((name) => wanted.has(name));
}

export { upTimeoutSeconds };

export function up(hossDir: string): Promise<void> {
  return upStack(hossDir, hossStack, {
    checkDir: checkHossDir,
    ensureEnv: ensureEnvFile,
    images: (ctx) => imagesFor(ctx.services),
    prepare: prepareFolders,
    services: (ctx) => ctx.services,
    only: true,
  });
}
