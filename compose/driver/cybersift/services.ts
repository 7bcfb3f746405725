// The CyberSift stack's services from the host: containers by compose
// labels, Redis at the redis container's address with the stack's password
// (RESP over a socket, binary-safe), Elasticsearch over plain HTTP.
import { findServiceContainer, requireRunning } from '../../../src/docker/compose-services.ts';
import type { ContainerInfo, ExecOptions } from '../../../src/docker/types.ts';
import { OperationError } from '../../../src/errors.ts';
import { openRedis, type RedisConnection } from '../../../src/components/redis/resp.ts';
import { docker } from '../runtime.ts';
import type { CyberSiftContext, CyberSiftService } from './context.ts';

export async function runningCyberSiftService(ctx: CyberSiftContext, service: CyberSiftService): Promise<ContainerInfo> {
  const container = await findServiceContainer(docker, ctx.project, service);
  requireRunning(container);
  return container;
}

/** Runs argv in the service's container; a non-zero exit is an error carrying stderr. */
export async function execInCyberSift(ctx: CyberSiftContext, service: CyberSiftService, argv: readonly string[], options: ExecOptions = {}): Promise<string> {
  const result = await docker.exec((await runningCyberSiftService(ctx, service)).id, argv, options);
  if (result.exitCode !== 0) {
    const last = (result.stderr.trim() || result.stdout.trim()).split('\n').pop() ?? '';
    throw new OperationError(`${argv[0]} in ${service} exited ${result.exitCode}${last ? `: ${last}` : ''}`, { details: result.stderr.trim() });
  }
  return result.stdout;
}

/** A Redis connection logged in with REDIS_PASSWORD (`password` overrides it, for tests of a wrong one). */
export async function withRedis<T>(ctx: CyberSiftContext, work: (redis: RedisConnection) => Promise<T>, address?: string): Promise<T> {
  const host = address ?? (await docker.containerAddress((await runningCyberSiftService(ctx, 'redis')).id));
  const redis = await openRedis(host, 6379);
  try {
    await redis.call('AUTH', ctx.env.REDIS_PASSWORD!);
    return await work(redis);
  } finally {
    await redis.close();
  }
}

export async function cyberSiftEsBase(ctx: CyberSiftContext): Promise<string> {
  return `http://${await docker.containerAddress((await runningCyberSiftService(ctx, 'elasticsearch')).id)}:9200`;
}
