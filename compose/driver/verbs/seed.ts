// seed [--scale N]: deterministic content in every stateful service. Each
// part replaces what it seeded before instead of adding to it, so the same
// N always ends in the same fingerprint.
import { asHossError, OperationError } from '../../../src/errors.ts';
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
  const step = async (what: string, work: () => Promise<void>) => {
    const t = Date.now();
    try {
      await work();
    } catch (error) {
      const failure = asHossError(error);
      throw new OperationError(`seeding ${what} failed: ${failure.message}`, { cause: error, ...(failure.details ? { details: failure.details } : {}) });
    }
    say(`seeded ${what} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  };
  await step('config files', () => writeConfigFiles(ctx.hossDir, true));
  if (has('auth')) await step('auth-secrets', () => seedAuthSecrets(ctx));
  if (has('db')) await step('postgres', () => seedPostgres(ctx, scale));
  if (has('opensearch')) await step('opensearch', () => seedOpenSearch(ctx, scale));
  if (has('ldap')) await step('ldap', () => seedLdap(ctx, scale));
  if (has('rabbitmq')) await step('rabbitmq', () => seedRabbitMq(ctx, scale));
  say(`seed --scale ${scale} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
