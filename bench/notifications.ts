/**
 * Publishing with publisher confirms: our `RabbitOutboxTransport.publish` (what the outbox relay calls: JSON
 * encoding, AMQP properties, mandatory + returns, per-record confirm results, the post-confirm hook) against
 * raw amqplib on a confirm channel publishing the same bodies with the same properties and awaiting every
 * confirm, batch by batch like the relay. Same broker, same quorum queue (declared like the notification
 * queues), same batch size; rounds alternate so background noise hits both alike.
 * Goal: ratio >= 0.8 and >= 5,000 messages/s.
 */
import { performance } from 'node:perf_hooks';
import amqp from 'amqplib';
import { RabbitConnection } from '../src/integrations/notifications/connection.js';
import { publishProperties, RabbitOutboxTransport } from '../src/integrations/notifications/transport.js';
import type { OutboxRecord } from '../src/kernel/store/outbox.js';
import { createLogger } from '../src/kernel/telemetry/logger.js';
import type { BenchResult } from './types.js';

const URL = process.env.BENCH_RABBITMQ_URL ?? process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const QUEUE = 'bench_notifications';

function records(round: string): OutboxRecord[] {
  const createdAt = new Date();
  return Array.from({ length: MESSAGES }, (_, i) => {
    const id = `ntf_bench_${round}_${i}`;
    return {
      id,
      destination: `rabbitmq:${QUEUE}`,
      key: null,
      attempts: 1,
      createdAt,
      headers: { 'x-correlation-id': id, 'x-message-type': 'notification.email.v1' },
      payload: {
        schemaVersion: 1,
        id,
        channel: 'email',
        correlationId: id,
        createdAt: createdAt.toISOString(),
        template: 'payment_receipt',
        content: {
          to: `patient.${i}@example.com`,
          subject: 'Your receipt pay_0123456789',
          text: 'Thank you for your payment of 12.50 USD.\nReceipt: pay_0123456789\n',
          html: '<p>Thank you for your payment of <strong>12.50 USD</strong>.</p><p>Receipt: pay_0123456789</p>',
        },
      },
    };
  });
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return MESSAGES / ((performance.now() - t) / 1000);
}

export async function run(): Promise<BenchResult> {
  const admin = await amqp.connect(URL);
  const adminCh = await admin.createChannel();
  await adminCh.assertQueue(QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });

  const connection = new RabbitConnection({
    url: URL,
    connectionName: 'bench-ours',
    logger: createLogger({ level: 'silent' }),
  });
  await connection.waitUntilConnected(10_000);
  const transport = new RabbitOutboxTransport({
    connection,
    logger: createLogger({ level: 'silent' }),
    onConfirmed: async () => {},
  });

  const rawConn = await amqp.connect(URL, { clientProperties: { connection_name: 'bench-raw' } });
  const raw = await rawConn.createConfirmChannel();

  const ours = async (recs: OutboxRecord[]) => {
    for (let i = 0; i < recs.length; i += BATCH) {
      const res = await transport.publish(recs.slice(i, i + BATCH));
      if (res.some((r) => !r.ok)) throw new Error('ours: a publish failed');
    }
  };
  const baseline = async (recs: OutboxRecord[]) => {
    for (let i = 0; i < recs.length; i += BATCH) {
      const batch = recs.slice(i, i + BATCH);
      const confirms: Array<Promise<void>> = [];
      for (const r of batch) {
        confirms.push(
          new Promise<void>((resolve, reject) => {
            const ok = raw.publish(
              '',
              QUEUE,
              Buffer.from(JSON.stringify(r.payload)),
              publishProperties(r),
              (err) => (err ? reject(err) : resolve()),
            );
            void ok;
          }),
        );
      }
      await Promise.all(confirms);
    }
  };

  const oursRates: number[] = [];
  const rawRates: number[] = [];
  try {
    // Warm-up (JIT, channel set-up), then alternate.
    await ours(records('warm').slice(0, 2_000));
    await baseline(records('warmraw').slice(0, 2_000));
    await adminCh.purgeQueue(QUEUE);
    for (let round = 0; round < ROUNDS; round++) {
      const a = records(`o${round}`);
      const b = records(`b${round}`);
      if (round % 2 === 0) {
        oursRates.push(await timed(() => ours(a)));
        rawRates.push(await timed(() => baseline(b)));
      } else {
        rawRates.push(await timed(() => baseline(b)));
        oursRates.push(await timed(() => ours(a)));
      }
      await adminCh.purgeQueue(QUEUE);
    }
  } finally {
    await transport.close();
    await connection.close();
    await rawConn.close().catch(() => {});
    await adminCh.deleteQueue(QUEUE).catch(() => {});
    await admin.close().catch(() => {});
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  const o = Math.round(median(oursRates));
  const b = Math.round(median(rawRates));
  return {
    ours: { messagesPerSecond: o },
    baseline: { messagesPerSecond: b },
    ratio: Number((o / b).toFixed(3)),
    goal: 'ratio >= 0.8 and ours >= 5000 msg/s',
    messages: MESSAGES,
    batch: BATCH,
    rounds: ROUNDS,
    queue: 'quorum, durable, persistent messages',
    table: [
      {
        side: 'ours (RabbitOutboxTransport.publish)',
        'msg/s': o,
        rounds: oursRates.map((r) => Math.round(r)).join(' / '),
      },
      {
        side: 'baseline (raw amqplib confirm channel)',
        'msg/s': b,
        rounds: rawRates.map((r) => Math.round(r)).join(' / '),
      },
    ],
  };
}
