// The TheHive stack's services from the host: containers by compose labels,
// exec, CQL at the cassandra container's address with the stack's role, and
// Elasticsearch over plain HTTP (7.10 without the X-Elastic-Product header
// that newer clients demand).
import cassandra from 'cassandra-driver';
import { projectServices } from '../services/containers.ts';
import type { TheHiveContext, TheHiveService } from './context.ts';

export { es, esRequest, type EsResponse } from '../services/elasticsearch.ts';

/** The running container, its address and exec (non-zero exit is an error carrying stderr) of a TheHive service. */
export const {
  running: runningTheHiveService,
  address: theHiveServiceAddress,
  exec: execInTheHive,
} = projectServices<TheHiveContext, TheHiveService>();

/** A CQL session as CASSANDRA_USER, bound to the one node (no DC discovery, no other hosts). */
export async function withCql<T>(ctx: TheHiveContext, work: (client: cassandra.Client) => Promise<T>, address?: string): Promise<T> {
  const host = address ?? (await theHiveServiceAddress(ctx, 'cassandra'));
  const { policies, auth } = cassandra;
  const client = new cassandra.Client({
    contactPoints: [host],
    authProvider: new auth.PlainTextAuthProvider(ctx.env.CASSANDRA_USER!, ctx.env.CASSANDRA_PASSWORD!),
    policies: {
      loadBalancing: new policies.loadBalancing.AllowListPolicy(new policies.loadBalancing.RoundRobinPolicy(), [`${host}:9042`]),
      retry: new policies.retry.RetryPolicy(),
      reconnection: new policies.reconnection.ConstantReconnectionPolicy(1000),
    },
    socketOptions: { connectTimeout: 10_000, readTimeout: 120_000 },
    pooling: { coreConnectionsPerHost: { [cassandra.types.distance.local]: 1 } },
    isMetadataSyncEnabled: false,
  });
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

export async function esBase(ctx: TheHiveContext): Promise<string> {
  return `http://${await theHiveServiceAddress(ctx, 'elasticsearch')}:9200`;
}
