import type { Channel } from 'amqplib';

/**
 * The notification service's own view of its queues. Written separately from the client's declaration on
 * purpose (a simulator must not share the client's mistakes): both declare the same names and arguments,
 * and RabbitMQ refuses a mismatch with PRECONDITION_FAILED, so a drift shows up at once in tests.
 */
export const WORK_QUEUES = {
  email: 'email_notifications',
  sms: 'sms_notifications',
  push: 'push_notifications',
} as const;
export type ServiceChannel = keyof typeof WORK_QUEUES;
export const STATUS_QUEUE = 'notification_status';
const WORK_EXCHANGE = 'notifications.work';
export const RETRY_EXCHANGE = 'notifications.retry';
const DLX = 'notifications.dlx';

export const retryQueue = (queue: string, delayMs: number) => `${queue}.retry.${delayMs}ms`;

export async function declareServiceTopology(ch: Channel, retryDelaysMs: readonly number[]): Promise<void> {
  await ch.assertExchange(WORK_EXCHANGE, 'direct', { durable: true });
  await ch.assertExchange(RETRY_EXCHANGE, 'direct', { durable: true });
  await ch.assertExchange(DLX, 'direct', { durable: true });
  for (const queue of [...Object.values(WORK_QUEUES), STATUS_QUEUE]) {
    await ch.assertQueue(queue, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': DLX,
        'x-dead-letter-routing-key': queue,
        'x-delivery-limit': 20,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      },
    });
    await ch.bindQueue(queue, WORK_EXCHANGE, queue);
    await ch.assertQueue(`${queue}.dlq`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(`${queue}.dlq`, DLX, queue);
    if (queue === STATUS_QUEUE) continue;
    for (const delay of retryDelaysMs) {
      const rq = retryQueue(queue, delay);
      await ch.assertQueue(rq, {
        durable: true,
        arguments: {
          'x-message-ttl': delay,
          'x-dead-letter-exchange': WORK_EXCHANGE,
          'x-dead-letter-routing-key': queue,
        },
      });
      await ch.bindQueue(rq, RETRY_EXCHANGE, rq);
    }
  }
}
