// "Up" for the CyberSift stack: Elasticsearch reports yellow or green, Redis
// answers PING after AUTH with REDIS_PASSWORD and has loaded its data, the
// stand-in's healthcheck says it reached both. The loop is ../probes.ts's.
import { asText } from '../../../src/components/redis/resp.ts';
import { clusterHealthProbe, healthcheckProbe, type Probe, waitForProbes } from '../probes.ts';
import { CYBERSIFT_SERVICES, type CyberSiftContext, type CyberSiftService } from './context.ts';
import { withRedis } from './services.ts';

const PROBES: Record<CyberSiftService, Probe<CyberSiftContext>> = {
  elasticsearch: clusterHealthProbe(),
  redis: {
    waitsFor: 'PING after AUTH, data loaded',
    check: (ctx, address) => withRedis(ctx, async (redis) => {
      await redis.call('PING');
      if (!/^loading:0$/m.test(asText(await redis.call('INFO', 'persistence')))) throw new Error('still loading');
    }, address),
  },
  cybersift: healthcheckProbe('its healthcheck (Redis and Elasticsearch reached)'),
};

/** Polls every service until all answer; a StackError naming the laggards after timeoutSeconds. */
export async function waitForCyberSift(ctx: CyberSiftContext, timeoutSeconds: number, verbose = true): Promise<void> {
  await waitForProbes(ctx, PROBES, CYBERSIFT_SERVICES, timeoutSeconds, verbose);
}
