// The TheHive stack's services from the host: containers by compose labels,
// exec, CQL at the cassandra container's address with the stack's role, and
// Elasticsearch over plain HTTP (7.10 without the X-Elastic-Product header
// that newer clients demand).
import cassandra from 'cassandra-driver';
import type { ContainerInfo, ExecOptions } from '../../../src/docker/types.ts';
import { OperationError } from '../../../src/errors.ts';
import { execInProject, runningServiceInProject, serviceAddressInProject } from '../services/containers.ts';
import type { TheHiveContext, TheHiveService } from './context.ts';

export async function runningTheHiveService(ctx: TheHiveContext, service: TheHiveService): Promise<ContainerInfo> {
  return runningServiceInProject(ctx.project, service);
}

export async function theHiveServiceAddress(ctx: TheHiveContext, service: TheHiveService): Promise<string> {
  return serviceAddressInProject(ctx.project, service);
}

/** Runs argv in the service's container; a non-zero exit is an error carrying stderr. */
export async function execInTheHive(ctx: TheHiveContext, service: TheHiveService, argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  return execInProject(ctx.project, service, argv, options);
}

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

export interface EsResponse<T = unknown> {
  status: number;
  body: T;
}

/** One HTTP call to Elasticsearch; JSON in and out, ndjson for _bulk. */
export async function esRequest<T = unknown>(base: string, method: string, path: string, body?: unknown, timeoutMs = 120_000): Promise<EsResponse<T>> {
  const init: RequestInit = { method, signal: AbortSignal.timeout(timeoutMs) };
  if (body !== undefined) {
    const ndjson = typeof body === 'string';
    init.body = ndjson ? body : JSON.stringify(body);
    init.headers = { 'Content-Type': ndjson ? 'application/x-ndjson' : 'application/json' };
  }
  const response = await fetch(`${base}${path}`, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** Throws with ES's own reason unless the status is one of `ok`. */
export async function es<T = unknown>(base: string, method: string, path: string, body?: unknown, ok: readonly number[] = [200, 201]): Promise<T> {
  const response = await esRequest<T>(base, method, path, body);
  if (!ok.includes(response.status)) {
    const reason = (response.body as { error?: { reason?: string; type?: string } } | null)?.error;
    throw new OperationError(`elasticsearch ${method} ${path} answered ${response.status}${reason ? `: ${reason.type ?? ''} ${reason.reason ?? ''}`.trimEnd() : ''}`);
  }
  return response.body;
}

export async function esBase(ctx: TheHiveContext): Promise<string> {
  return `http://${await theHiveServiceAddress(ctx, 'elasticsearch')}:9200`;
}
