// "Up" for the TheHive stack: Cassandra takes a CQL login with the stack's
// role, Elasticsearch reports yellow or green, TheHive's healthcheck says
// its keyspace and index are there. A container that exited or keeps
// restarting is reported as such.
import { findServiceContainer } from '../../../src/docker/compose-services.ts';
import { StackError } from '../../../src/errors.ts';
import { docker, say } from '../runtime.ts';
import { THEHIVE_SERVICES, type TheHiveContext, type TheHiveService } from './context.ts';
import { esRequest, withCql } from './services.ts';

interface Probe {
  waitsFor: string;
  check: (ctx: TheHiveContext, address: string, containerId: string) => Promise<void>;
}

async function healthy(containerId: string): Promise<void> {
  const health = (await docker.inspectContainer(containerId)).State.Health?.Status;
  if (health !== 'healthy') throw new Error(`health ${health ?? 'unknown'}`);
}

export const THEHIVE_PROBES: Record<TheHiveService, Probe> = {
  cassandra: {
    waitsFor: 'a CQL login as CASSANDRA_USER',
    check: async (ctx, address) =>
      withCql(ctx, async (client) => void (await client.execute('SELECT release_version FROM system.local')), address),
  },
  elasticsearch: {
    waitsFor: 'cluster health yellow or green',
    check: async (_ctx, address) => {
      const { status, body } = await esRequest<{ status?: string }>(`http://${address}:9200`, 'GET', '/_cluster/health', undefined, 5000);
      if (body?.status !== 'green' && body?.status !== 'yellow') throw new Error(`cluster health ${body?.status ?? status}`);
    },
  },
  thehive: {
    waitsFor: 'its healthcheck (keyspace and index ready)',
    check: async (_ctx, _address, id) => healthy(id),
  },
};

async function probeOnce(ctx: TheHiveContext, service: TheHiveService): Promise<void> {
  const container = await findServiceContainer(docker, ctx.project, service);
  const info = await docker.inspectContainer(container.id);
  if (container.state !== 'running') throw new Error(`container ${container.name} is ${container.state} (exit ${info.State.ExitCode})`);
  if (info.State.Restarting) throw new Error(`container ${container.name} keeps restarting`);
  const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? '';
  await THEHIVE_PROBES[service].check(ctx, address, container.id);
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return (code && !message.includes(code) ? `${code} ${message}` : message).split('\n')[0]!.slice(0, 200);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForTheHive(ctx: TheHiveContext, timeoutSeconds: number, services: readonly TheHiveService[] = THEHIVE_SERVICES, verbose = true): Promise<void> {
  const started = Date.now();
  const pending = new Set<TheHiveService>(services);
  const lastReason = new Map<TheHiveService, string>();
  if (verbose) for (const service of services) say(`waiting for ${service}: ${THEHIVE_PROBES[service].waitsFor}`);
  while (pending.size > 0) {
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
    if ((Date.now() - started) / 1000 > timeoutSeconds) {
      const names = [...pending];
      throw new StackError(
        `${names.join(', ')} did not answer within ${timeoutSeconds} s (${names.map((n) => `${n}: ${lastReason.get(n) ?? 'no answer'}`).join('; ')})`,
        { hint: `see docker logs of the ${ctx.project} ${names[0]} container` },
      );
    }
    await sleep(2000);
  }
}
