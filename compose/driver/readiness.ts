// "Up" means every service answers the way its clients use it, not that its
// container runs: Postgres takes a query on both databases, OpenSearch
// reports yellow or green, LDAP accepts the admin bind, rabbitmqctl gets an
// answer from the node, auth runs with /secrets, core reports healthy.
import { SERVICES, type ServiceName, type StackContext } from './context.ts';
import { healthcheckProbe, type Probe, waitForProbes } from './probes.ts';
import { execIn } from './services/containers.ts';
import { ldapTool } from './services/ldap.ts';
import { stackDatabases, withDatabase } from './services/postgres.ts';
import { rabbitmqctl } from './services/rabbitmq.ts';

export const PROBES: Record<ServiceName, Probe<StackContext>> = {
  db: {
    waitsFor: 'Postgres to accept a query on both databases',
    check: async (ctx, address) => {
      for (const database of stackDatabases(ctx)) {
        await withDatabase(ctx, database, async (client) => void (await client.query('SELECT 1')), address);
      }
    },
  },
  opensearch: {
    waitsFor: 'cluster health yellow or green',
    check: async (_ctx, address) => {
      const response = await fetch(`http://${address}:9200/_cluster/health`, { signal: AbortSignal.timeout(5000) });
      const body = (await response.json()) as { status?: string };
      if (body.status !== 'green' && body.status !== 'yellow') throw new Error(`cluster health ${body.status ?? response.status}`);
    },
  },
  ldap: {
    waitsFor: 'an admin bind and a search of the base entry',
    check: async (ctx) => void (await ldapTool(ctx, 'ldapsearch', ['-LLL', '-b', ctx.ldapBase, '-s', 'base', 'dn'])),
  },
  auth: {
    waitsFor: 'the container running with /secrets',
    check: async (ctx) => void (await execIn(ctx, 'auth', ['test', '-d', '/secrets'])),
  },
  rabbitmq: {
    waitsFor: 'rabbitmqctl to get an answer from the node',
    check: async (ctx) => void (await rabbitmqctl(ctx, ['-q', 'list_vhosts'])),
  },
  core: healthcheckProbe('its healthcheck (tables present in hoss_core)'),
};

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForServices(ctx: StackContext, timeoutSeconds: number, services: readonly ServiceName[] = SERVICES, verbose = true): Promise<void> {
  await waitForProbes(ctx, PROBES, services, timeoutSeconds, verbose);
}
