// How `hossadm init` recognises a Redis service (or Valkey, KeyDB) and
// writes a redis instance; its password comes from REDIS_PASSWORD or the
// command line's --requirepass, into the .env.
import type { ServiceFacts } from '../../core/init/facts.ts';
import { mountAt, type Recognised, type RecogniseContext, type ServiceRecogniser } from '../recogniser.ts';

function planRedis(s: ServiceFacts, ctx: RecogniseContext): Recognised {
  const data = mountAt(s, '/data') ?? s.mounts.find((m) => m.type !== 'other' && !m.readOnly);
  const passArg = s.command.indexOf('--requirepass');
  const config: Record<string, unknown> = { service: s.service, dataDir: data?.destination ?? '/data' };
  const password = s.env.REDIS_PASSWORD || (passArg >= 0 ? s.command[passArg + 1] : undefined);
  if (password) config.password = { env: ctx.setEnv('REDIS_PASSWORD', password, true) };
  return { config, claims: [data], saves: 'one RDB of every database' };
}

export const redisRecogniser: ServiceRecogniser = {
  name: 'redis',
  title: 'Redis',
  // Not the tools around it: RedisInsight, Redis Commander, exporters.
  images: [/^(redis|valkey|keydb)/],
  notImages: [/insight|commander|exporter/],
  labels: ['redis'],
  plan: planRedis,
};
