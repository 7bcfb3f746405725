// "Up" for the CyberSift stack: Elasticsearch reports yellow or green, Redis
// answers PING after AUTH with REDIS_PASSWORD and has loaded its data, the
// stand-in's healthcheck says it reached both. A container that exited or
// keeps restarting is reported as such.
import { findServiceContainer } from '../../../src/docker/compose-services.ts';
import { StackError } from '../../../src/errors.ts';
import { asText } from '../../../src/components/redis/resp.ts';
import { docker, say } from '../runtime.ts';
import { esRequest } from '../thehive/services.ts';
import { CYBERSIFT_SERVICES, type CyberSiftContext, type CyberSiftService } from './context.ts';
import { withRedis } from './services.ts';

const PROBES: Record<CyberSiftService, { waitsFor: string; check: (ctx: CyberSiftContext, address: string, id: string) => Promise<void> }> = {
  elasticsearch: {
    waitsFor: 'cluster health yellow or green',
    check: async (_ctx, address) => {
      const { status, body } = await esRequest<{ status?: string }>(`http://${address}:9200`, 'GET', '/_cluster/health', undefined, 5000);
      if (body?.status !== 'green' && body?.status !== 'yellow') throw new Error(`cluster health ${body?.status ?? status}`);
    },
  },
  redis: {
    waitsFor: 'PING after AUTH, data loaded',
    check: (ctx, address) => withRedis(ctx, async (redis) => {
      await redis.call('PING');
      if (!/^loading:0$/m.test(asText(await redis.call('INFO', 'persistence')))) throw new Error('still loading');
    }, address),
  },
  cybersift: {
    waitsFor: 'its healthcheck (Redis and Elasticsearch reached)',
    check: async (_ctx, _address, id) => {
      const health = (await docker.inspectContainer(id)).State.Health?.Status;
      if (health !== 'healthy') throw new Error(`health ${health ?? 'unknown'}`);
    },
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForCyberSift(ctx: CyberSiftContext, timeoutSeconds: number, verbose = true): Promise<void> {
  const started = Date.now();
  const pending = new Set<CyberSiftService>(CYBERSIFT_SERVICES);
  const reasons = new Map<CyberSiftService, string>();
  if (verbose) for (const service of pending) say(`waiting for ${service}: ${PROBES[service].waitsFor}`);
  for (;;) {
    for (const service of [...pending]) {
      try {
        const container = await findServiceContainer(docker, ctx.project, service);
        const info = await docker.inspectContainer(container.id);
        if (container.state !== 'running') throw new Error(`container ${container.name} is ${container.state} (exit ${info.State.ExitCode})`);
        if (info.State.Restarting) throw new Error(`container ${container.name} keeps restarting`);
        const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ?? '';
        await PROBES[service].check(ctx, address, container.id);
        pending.delete(service);
        if (verbose) say(`${service} ready after ${Math.round((Date.now() - started) / 1000)} s`);
      } catch (error) {
        reasons.set(service, (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200));
      }
    }
    if (pending.size === 0) return;
    if ((Date.now() - started) / 1000 > timeoutSeconds) {
      const names = [...pending];
      throw new StackError(`${names.join(', ')} did not answer within ${timeoutSeconds} s (${names.map((n) => `${n}: ${reasons.get(n) ?? 'no answer'}`).join('; ')})`, {
        hint: `see docker logs of the ${ctx.project} ${names[0]} container`,
      });
    }
    await sleep(1000);
  }
}
