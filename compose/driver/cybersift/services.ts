// The CyberSift stack's services from the host: exec through the shared
// lookup, Redis at the redis container's address with the stack's password
// (RESP over a socket, binary-safe), Elasticsearch over plain HTTP.
import type { ExecOptions } from '../../../src/docker/types.ts';
import { openRedis, type RedisConnection } from '../../../src/components/redis/resp.ts';
import { execInProject, serviceAddressInProject } from '../services/containers.ts';
import type { CyberSiftContext, CyberSiftService } from './context.ts';

/** Runs argv in the service's container; a non-zero exit is an error carrying stderr. */
export function execInCyberSift(ctx: CyberSiftContext, service: CyberSiftService, argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  return execInProject(ctx.project, service, argv, options);
}

/** A Redis connection logged in with REDIS_PASSWORD (`password` overrides it, for tests of a wrong one). */
export async function withRedis<T>(ctx: CyberSiftContext, work: (redis: RedisConnection) => Promise<T>, address?: string): Promise<T> {
  const host = address ?? (await serviceAddressInProject(ctx.project, 'redis'));
  const redis = await openRedis(host, 6379);
  try {
    await redis.call('AUTH', ctx.env.REDIS_PASSWORD!);
    return await work(redis);
  } finally {
    await redis.close();
  }
}

export async function cyberSiftEsBase(ctx: CyberSiftContext): Promise<string> {
  return `http://${await serviceAddressInProject(ctx.project, 'elasticsearch')}:9200`;
}
