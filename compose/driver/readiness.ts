// "Up" means every service answers the way its clients use it, not that its
// container runs: Postgres takes a query on both databases, OpenSearch
// reports yellow or green, LDAP accepts the admin bind, rabbitmqctl gets an
// answer from the node, auth runs with /secrets, core reports healthy.
import { findServiceContainer } from '../../src/docker/compose-services.ts';
import { StackError } from '../../src/errors.ts';
import { SERVICES, type ServiceName, type StackContext } from './context.ts';
import { docker, say } from './runtime.ts';
import { execIn } from './services/containers.ts';
import { ldapTool } from './services/ldap.ts';
import { stackDatabases, withDatabase } from './services/postgres.ts';
import { rabbitmqctl } from './services/rabbitmq.ts';

interface Probe {
  /** What we wait for, in words for the progress line. */
  waitsFor: string;
  /** Resolves when the service answers; throws with the reason when not yet. */
  check: (ctx: StackContext, address: string, containerId: string) => Promise<void>;
}

export const PROBES: Record<ServiceName, Probe> = {
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
  core: {
    waitsFor: 'its healthcheck (tables present in hoss_core)',
    check: async (_ctx, _address, id) => {
      const info = await docker.inspectContainer(id);
      const health = info.State.Health?.Status;
      if (health !== 'healthy') throw new Error(`health ${health ?? 'unknown'}`);
    },
  },
};

async function probeOnce(ctx: StackContext, service: ServiceName): Promise<void> {
  const container = await findServiceContainer(docker, ctx.project, service);
  if (container.state !== 'running') {
    const info = await docker.inspectContainer(container.id);
    throw new Error(`container ${container.name} is ${container.state} (exit ${info.State.ExitCode})`);
  }
  const info = await docker.inspectContainer(container.id);
  if (info.State.Restarting) throw new Error(`container ${container.name} keeps restarting`);
  const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? '';
  await PROBES[service].check(ctx, address, container.id);
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return (code && !message.includes(code) ? `${code} ${message}` : message).split('\n')[0]!.slice(0, 200);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForServices(ctx: StackContext, timeoutSeconds: number, services: readonly ServiceName[] = SERVICES, verbose = true): Promise<void> {
  const started = Date.now();
  const pending = new Set<ServiceName>(services);
  const lastReason = new Map<ServiceName, string>();
  if (verbose) for (const service of services) say(`waiting for ${service}: ${PROBES[service].waitsFor}`);
  while (pending.size > 0) {
    // One at a time: each rabbitmqctl or ldapsearch starts a process in its
    // container, and two cores are shared with the services starting up.
    for (const service of [...pending]) {
      try {
        await probeOnce(ctx, service);
        pending.delete(service);
        if (verbose) say(`${service} ready after ${Math.round((Date.now() - started) / 1000)} s`);
      } catch (error) {
        lastReason.set(service, reason(error));
      }
    }
    if (pending.size === 0) break;
    const elapsed = (Date.now() - started) / 1000;
    if (elapsed > timeoutSeconds) {
      const names = [...pending];
      throw new StackError(
        `${names.join(', ')} did not answer within ${timeoutSeconds} s (${names.map((n) => `${n}: ${lastReason.get(n) ?? 'no answer'}`).join('; ')})`,
        { hint: `see docker logs of the ${ctx.project} ${names[0]} container` },
      );
    }
    await sleep(2000);
  }
}
