// fingerprint: one JSON document (keys sorted) describing all state of the
// stack, equal for equal state and different for any difference a restore
// could get wrong.
//
// Compared logically, through the service: Postgres (rows per table),
// OpenSearch (documents, mappings, aliases), LDAP (entries), RabbitMQ
// (queues and message counts). Their engines rewrite their own files on
// start, compact and merge them while running, and a restore through the
// engine (pg_restore, snapshot restore, slapadd) lays them out anew, so
// their bytes say nothing about whether the content is the same.
//
// The engines' own volumes (ldap-vol0, ldap-vol1, rabbitmq-data) add only
// what stays fixed across restarts: their root folder and set of owners.
//
// Compared byte for byte: the named volumes no engine owns (auth-secrets),
// bind-mounted state folders that are not an engine's data files
// (DB_INIT_SCRIPTS), and the config files of HOSS_DIR (.env included).
// Nothing rewrites them, so every byte, mode and owner counts.
import { loadContext, VOLUMES, type ServiceName, type StackContext } from '../context.ts';
import { canonicalJson } from '../fingerprint/canonical.ts';
import { ENGINE_VOLUMES, fingerprintConfig, fingerprintEngineVolumes, fingerprintFolders, fingerprintVolumes } from '../fingerprint/files.ts';
import { fingerprintLdap } from '../fingerprint/ldap.ts';
import { fingerprintOpenSearch } from '../fingerprint/opensearch.ts';
import { fingerprintPostgres } from '../fingerprint/postgres.ts';
import { fingerprintRabbitMq } from '../fingerprint/rabbitmq.ts';
import { waitForServices } from '../readiness.ts';
import { docker, say } from '../runtime.ts';

export async function computeFingerprint(ctx: StackContext): Promise<Record<string, unknown>> {
  const byteVolumes = VOLUMES.filter((v) => !(v in ENGINE_VOLUMES));
  // A service that is not deployed (SERVICES in .env) has no state to show.
  const when = <T>(service: ServiceName, work: () => Promise<T>) => (ctx.services.includes(service) ? work() : Promise.resolve(null));
  const [postgres, opensearch, ldap, rabbitmq, volumes, engineVolumes, folders, config] = await Promise.all([
    when('db', () => fingerprintPostgres(ctx)),
    when('opensearch', () => fingerprintOpenSearch(ctx)),
    when('ldap', () => fingerprintLdap(ctx)),
    when('rabbitmq', () => fingerprintRabbitMq(ctx)),
    fingerprintVolumes(ctx, byteVolumes),
    fingerprintEngineVolumes(ctx),
    fingerprintFolders(ctx),
    fingerprintConfig(ctx),
  ]);
  return {
    version: ctx.env.HOSS_VERSION ?? null,
    postgres,
    opensearch,
    ldap,
    rabbitmq,
    volumes: { ...engineVolumes, ...volumes },
    folders,
    config,
  };
}

export function renderFingerprint(document: Record<string, unknown>): string {
  return `${canonicalJson(document, 2)}\n`;
}

export async function fingerprint(hossDir: string): Promise<string> {
  const started = Date.now();
  const ctx = await loadContext(hossDir);
  await docker.ping();
  // A service that was just started (RabbitMQ boots for a while after a
  // restore starts it again) may not answer yet: wait for the stack to be
  // ready and ask once more, so a fingerprint always describes a stack at rest.
  const document = await computeFingerprint(ctx).catch(async () => {
    await waitForServices(ctx, 300, ctx.services, false);
    return computeFingerprint(ctx);
  });
  const text = renderFingerprint(document);
  say(`fingerprint of ${ctx.project} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return text;
}
