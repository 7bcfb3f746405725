// seed [--scale N]: deterministic content in every stateful service. Each
// part replaces what it seeded before instead of adding to it, so the same
// N always ends in the same fingerprint.
import { seedStep } from '../seed/step.ts';
import { writeConfigFiles } from '../config-folder.ts';
import type { ServiceName } from '../context.ts';
import { seedStack } from '../stack-verbs.ts';
import { seedAuthSecrets } from '../seed/auth.ts';
import { seedLdap } from '../seed/ldap.ts';
import { seedOpenSearch } from '../seed/opensearch.ts';
import { seedPostgres } from '../seed/postgres.ts';
import { seedRabbitMq } from '../seed/rabbitmq.ts';
import { hossStack } from './up.ts';

export function seed(hossDir: string, scale: number): Promise<void> {
  return seedStack(hossDir, scale, hossStack, async (ctx) => {
    const has = (service: ServiceName) => ctx.services.includes(service);
    await seedStep('config files', () => writeConfigFiles(ctx.hossDir, true));
    if (has('auth')) await seedStep('auth-secrets', () => seedAuthSecrets(ctx));
    if (has('db')) await seedStep('postgres', () => seedPostgres(ctx, scale));
    if (has('opensearch')) await seedStep('opensearch', () => seedOpenSearch(ctx, scale));
    if (has('ldap')) await seedStep('ldap', () => seedLdap(ctx, scale));
    if (has('rabbitmq')) await seedStep('rabbitmq', () => seedRabbitMq(ctx, scale));
  });
}
