// Seed RabbitMQ the way HOSS uses it: a durable direct exchange "hoss"
// and durable queues bound to it, one holding persistent messages (bucket
// notifications waiting for the sync service), one empty. Queues are
// deleted and declared again, so seeding twice equals once.
import { connect } from 'amqplib';
import type { StackContext } from '../context.ts';
import { amqpUrl } from '../services/rabbitmq.ts';

export const MESSAGES_PER_SCALE = 100;
export const QUEUES = [
  { name: 'bucket_notifications', routingKey: 'bucket_notifications' },
  { name: 'sync_retry', routingKey: 'sync_retry' },
] as const;

export function notification(i: number): Buffer {
  return Buffer.from(
    JSON.stringify({
      EventName: i % 3 === 0 ? 's3:ObjectRemoved:Delete' : 's3:ObjectCreated:Put',
      Key: `data/ns-${1 + (i % 5)}/file-${i}.bin`,
      Records: [{ s3: { object: { size: (i * 7919) % 104729, sequencer: i.toString(16).padStart(16, '0') } } }],
    }),
  );
}

export async function seedRabbitMq(ctx: StackContext, scale: number): Promise<void> {
  const connection = await connect(await amqpUrl(ctx));
  try {
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange('hoss', 'direct', { durable: true });
    for (const queue of QUEUES) {
      await channel.deleteQueue(queue.name);
      await channel.assertQueue(queue.name, { durable: true });
      await channel.bindQueue(queue.name, 'hoss', queue.routingKey);
    }
    for (let i = 1; i <= MESSAGES_PER_SCALE * scale; i++) {
      channel.publish('hoss', 'bucket_notifications', notification(i), {
        persistent: true,
        contentType: 'application/json',
        messageId: `seed-${i}`,
      });
    }
    // Confirms mean the broker has written the persistent messages to disk.
    await channel.waitForConfirms();
    await channel.close();
  } finally {
    await connection.close();
  }
}
