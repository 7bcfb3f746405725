// RabbitMQ: rabbitmqctl inside the container for reading state, AMQP from
// the host (at the container's address) for publishing.
import type { StackContext } from '../context.ts';
import { execIn, serviceAddress } from './containers.ts';

export async function rabbitmqctl(ctx: StackContext, args: readonly string[]): Promise<string> {
  return execIn(ctx, 'rabbitmq', ['rabbitmqctl', ...args]);
}

export async function amqpUrl(ctx: StackContext): Promise<string> {
  const address = await serviceAddress(ctx, 'rabbitmq');
  const user = encodeURIComponent(ctx.env.RABBITMQ_USER!);
  const pass = encodeURIComponent(ctx.env.RABBITMQ_PASS!);
  return `amqp://${user}:${pass}@${address}:5672/%2F`;
}
