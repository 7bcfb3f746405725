// seed [--scale N]: deterministic content in every stateful service. Each
// part replaces what it seeded before instead of adding to it, so the same
// N always ends in the same fingerprint.
import { seedStep } from '../seed/step.ts';
import { writeConfigFiles } from '../config-folder.ts';
import { loadContext, type ServiceName } from '../context.ts';
import { waitForServices } from '../readiness.ts';
import { docker, say } from '../runtime.ts';
import { seedAuthSecrets } from '../seed/auth.ts';
import { seedLdap } from '../seed/ldap.ts';
import { seedOpenSearch } from '../seed/opensearch.ts';
import { seedPostgres } from '../seed/postgres.ts';
import { seedRabbitMq } from '../seed/rabbitmq.ts';

export async function seed(hossDir: string, scale: number): Promise<void> {
  const started = Date.now();
  const ctx = await loadContext(hossDir);
  await docker.ping();
  // A stack that is not answering gets a clear error, not a half seed.
  await waitForServices(ctx, 30, ctx.services, false);
  const has = (service: ServiceName) => ctx.services.includes(service);
  await seedStep('config files', () => writeConfigFiles(ctx.hossDir, true));
  if (has('auth')) await seedStep('auth-secrets', () => seedAuthSecrets(ctx));
  if (has('db')) await seedStep('postgres', () => seedPostgres(ctx, scale));
  if (has('opensearch')) await seedStep('opensearch', () => seedOpenSearch(ctx, scale));
  if (has('ldap')) await seedStep('ldap', () => seedLdap(ctx, scale));
  if (has('rabbitmq')) await seedStep('rabbitmq', () => seedRabbitMq(ctx, scale));
  say(`seed --scale ${scale} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
