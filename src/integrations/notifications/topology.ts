import type { Channel as AmqpChannel } from 'amqplib';
import type { Channel } from './schemas.js';

/**
 * The RabbitMQ topology of the notification service, declared at start-up and after every reconnect
 * (declarations are idempotent; different arguments on an existing queue fail with PRECONDITION_FAILED,
 * which surfaces as a connect failure in the logs and in /health/ready).
 *
 *   publish (default exchange, routing key = queue) ─► email_notifications ─┐ reject / delivery limit
 *   notifications.retry ─► <queue>.retry.<ms> (TTL) ─► notifications.work ─►┘   ─► notifications.dlx ─► <queue>.dlq
 *   notification service ─► notification_status ─► our status consumer
 */
export const QUEUES: Record<Channel, string> = {
  email: 'email_notifications',
  sms: 'sms_notifications',
  push: 'push_notifications',
};
/** Where `enqueueNotification` writes each channel's messages in the outbox: `rabbitmq:<queue>`. */
export const NOTIFICATION_DESTINATIONS: Record<Channel, string> = {
  email: `rabbitmq:${QUEUES.email}`,
  sms: `rabbitmq:${QUEUES.sms}`,
  push: `rabbitmq:${QUEUES.push}`,
};
export const STATUS_QUEUE = 'notification_status';
export const WORK_EXCHANGE = 'notifications.work';
export const RETRY_EXCHANGE = 'notifications.retry';
export const DEAD_LETTER_EXCHANGE = 'notifications.dlx';
/** Redeliveries of one message (consumer crash loops) before the broker dead-letters it by itself. */
export const DELIVERY_LIMIT = 20;

export const dlqName = (queue: string) => `${queue}.dlq`;
export const retryQueueName = (queue: string, delayMs: number) => `${queue}.retry.${delayMs}ms`;

export interface TopologyOptions {
  /** One TTL retry queue per delay (ms). Attempts in total = delays.length + 1. */
  retryDelaysMs: readonly number[];
  /** Quorum queues (with at-least-once dead-lettering) when the broker supports them (RabbitMQ ≥ 3.10). Default true. */
  quorum?: boolean;
}

/** Quorum queues exist since RabbitMQ 3.8; at-least-once dead-lettering since 3.10 (both used here). */
export function supportsQuorumQueues(serverVersion: unknown): boolean {
  const m = /^(\d+)\.(\d+)/.exec(String(serverVersion ?? ''));
  if (!m) return true; // unknown (a compatible broker that does not say): try, a refusal shows in the logs
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 3 || (major === 3 && minor >= 10);
}

function workQueueArgs(queue: string, quorum: boolean): Record<string, unknown> {
  return quorum
    ? {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE,
        'x-dead-letter-routing-key': queue,
        'x-delivery-limit': DELIVERY_LIMIT,
        // at-least-once dead-lettering (3.10+) needs reject-publish overflow.
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }
    : { 'x-dead-letter-exchange': DEAD_LETTER_EXCHANGE, 'x-dead-letter-routing-key': queue };
}

/** Declares every exchange, queue and binding (idempotent). */
export async function declareTopology(ch: AmqpChannel, opts: TopologyOptions): Promise<void> {
  const quorum = opts.quorum ?? true;
  await ch.assertExchange(WORK_EXCHANGE, 'direct', { durable: true });
  await ch.assertExchange(RETRY_EXCHANGE, 'direct', { durable: true });
  await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'direct', { durable: true });
  for (const queue of [...Object.values(QUEUES), STATUS_QUEUE]) {
    await ch.assertQueue(queue, { durable: true, arguments: workQueueArgs(queue, quorum) });
    await ch.bindQueue(queue, WORK_EXCHANGE, queue);
    const dlq = dlqName(queue);
    await ch.assertQueue(dlq, { durable: true, arguments: quorum ? { 'x-queue-type': 'quorum' } : {} });
    await ch.bindQueue(dlq, DEAD_LETTER_EXCHANGE, queue);
    if (queue === STATUS_QUEUE) continue;
    for (const delay of opts.retryDelaysMs) {
      // Queue-level TTL (not per-message): every message in a queue expires in order, none blocks the head.
      // Classic durable queues: they only hold messages for the delay and then dead-letter them back.
      const rq = retryQueueName(queue, delay);
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
