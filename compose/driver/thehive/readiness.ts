// "Up" for the TheHive stack: Cassandra takes a CQL login with the stack's
// role, Elasticsearch reports yellow or green, TheHive's healthcheck says
// its keyspace and index are there. The loop is ../probes.ts's.
import { clusterHealthProbe, healthcheckProbe, type Probe, waitForProbes } from '../probes.ts';
import { THEHIVE_SERVICES, type TheHiveContext, type TheHiveService } from './context.ts';
import { withCql } from './services.ts';

export const THEHIVE_PROBES: Record<TheHiveService, Probe<TheHiveContext>> = {
  cassandra: {
    waitsFor: 'a CQL login as CASSANDRA_USER',
    check: async (ctx, address) =>
      withCql(ctx, async (client) => void (await client.execute('SELECT release_version FROM system.local')), address),
  },
  elasticsearch: clusterHealthProbe(),
  thehive: healthcheckProbe('its healthcheck (keyspace and index ready)'),
};

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForTheHive(ctx: TheHiveContext, timeoutSeconds: number, services: readonly TheHiveService[] = THEHIVE_SERVICES, verbose = true): Promise<void> {
  await waitForProbes(ctx, THEHIVE_PROBES, services, timeoutSeconds, verbose);
}
