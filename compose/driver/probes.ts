// The readiness loop every reference stack uses: each service has a probe
// that resolves when it answers the way its clients use it; the loop polls
// the pending ones in turn until all answer or the time is up. A container
// that exited or keeps restarting is reported as such.
import { findServiceContainer } from '../../src/docker/compose-services.ts';
import { StackError } from '../../src/errors.ts';
import { docker, say } from './runtime.ts';
import { esRequest } from './services/elasticsearch.ts';

export interface Probe<C> {
  /** What we wait for, in words for the progress line. */
  waitsFor: string;
  /** Resolves when the service answers; throws with the reason when not yet. */
  check: (ctx: C, address: string, containerId: string) => Promise<void>;
}

/** Resolves when the container's healthcheck says healthy. */
export async function healthy(containerId: string): Promise<void> {
  const health = (await docker.inspectContainer(containerId)).State.Health?.Status;
  if (health !== 'healthy') throw new Error(`health ${health ?? 'unknown'}`);
}

/** A probe that waits for the container's own healthcheck. */
export function healthcheckProbe<C>(waitsFor: string): Probe<C> {
  return { waitsFor, check: async (_ctx, _address, id) => healthy(id) };
}

/** A search engine (Elasticsearch, OpenSearch) on port 9200 reporting cluster health yellow or green. */
export function clusterHealthProbe<C>(): Probe<C> {
  return {
    waitsFor: 'cluster health yellow or green',
    check: async (_ctx, address) => {
      const { status, body } = await esRequest<{ status?: string } | null>(`http://${address}:9200`, 'GET', '/_cluster/health', undefined, 5000);
      if (body?.status !== 'green' && body?.status !== 'yellow') throw new Error(`cluster health ${body?.status ?? status}`);
    },
  };
}

async function probeOnce<C extends { project: string }, S extends string>(ctx: C, service: S, probe: Probe<C>): Promise<void> {
  const container = await findServiceContainer(docker, ctx.project, service);
  const info = await docker.inspectContainer(container.id);
  if (container.state !== 'running') throw new Error(`container ${container.name} is ${container.state} (exit ${info.State.ExitCode})`);
  if (info.State.Restarting) throw new Error(`container ${container.name} keeps restarting`);
  const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? '';
  await probe.check(ctx, address, container.id);
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  return (code && !message.includes(code) ? `${code} ${message}` : message).split('\n')[0]!.slice(0, 200);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForProbes<C extends { project: string }, S extends string>(
  ctx: C,
  probes: Record<S, Probe<C>>,
  services: readonly S[],
  timeoutSeconds: number,
  verbose: boolean,
): Promise<void> {
  const started = Date.now();
  const pending = new Set<S>(services);
  const lastReason = new Map<S, string>();
  if (verbose) for (const service of services) say(`waiting for ${service}: ${probes[service].waitsFor}`);
  while (pending.size > 0) {
    // One at a time: each probe may start a process in its container
    // (rabbitmqctl, ldapsearch), and two cores are shared with the services
    // starting up.
    for (const service of [...pending]) {
      try {
        await probeOnce(ctx, service, probes[service]);
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
