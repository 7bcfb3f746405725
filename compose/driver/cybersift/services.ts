// The CyberSift stack's services from the host: exec through the shared
// lookup, Redis at the redis container's address with the stack's password
// (RESP over a socket, binary-safe), Elasticsearch over plain HTTP.
import { openRedis, type RedisConnection } from '../../../src/components/redis/resp.ts';
import { projectServices } from '../services/containers.ts';
import type { CyberSiftContext, CyberSiftService } from './context.ts';

/** A CyberSift service's address, and exec in its container (a non-zero exit is an error carrying stderr). */
export const { address: cyberSiftServiceAddress, exec: execInCyberSift } = projectServices<CyberSiftContext, CyberSiftService>();

/** A Redis connection logged in with REDIS_PASSWORD (`password` overrides it, for tests of a wrong one). */
export async function withRedis<T>(ctx: CyberSiftContext, work: (redis: RedisConnection) => Promise<T>, address?: string): Promise<T> {
  const host = address ?? (await cyberSiftServiceAddress(ctx, 'redis'));
  const redis = await openRedis(host, 6379);
  try {
    await redis.call('AUTH', ctx.env.REDIS_PASSWORD!);
    return await work(redis);
  } finally {
    await redis.close();
  }
}

export async function cyberSiftEsBase(ctx: CyberSiftContext): Promise<string> {
  return `http://${await cyberSiftServiceAddress(ctx, 'elasticsearch')}:9200`;
}
