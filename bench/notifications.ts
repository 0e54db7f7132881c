/**
 * Publishing with publisher confirms: our `RabbitOutboxTransport.publish` (what the outbox relay calls: JSON
 * encoding, AMQP properties, mandatory + returns, per-record confirm results, the post-confirm hook) against
 * raw amqplib on a confirm channel publishing the same bodies with the same properties and awaiting every
 * confirm, batch by batch like the relay. Same broker, same quorum queue (declared like the notification
 * queues), same batch size; batches alternate between the sides so background noise hits both alike.
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

  const ours = async (batch: OutboxRecord[]) => {
    const res = await transport.publish(batch);
    if (res.some((r) => !r.ok)) throw new Error('ours: a publish failed');
  };
  const baseline = async (batch: OutboxRecord[]) => {
    const confirms: Array<Promise<void>> = [];
    for (const r of batch) {
      confirms.push(
        new Promise<void>((resolve, reject) => {
          raw.publish('', QUEUE, Buffer.from(JSON.stringify(r.payload)), publishProperties(r), (err) =>
            err ? reject(err) : resolve(),
          );
        }),
      );
    }
    await Promise.all(confirms);
  };

  // Batches alternate between the two sides (and which goes first), so load from other processes on this
  // shared machine lands on both alike; each side's time is the sum of its own batches.
  const round = async (tag: string): Promise<[number, number]> => {
    const a = records(`o${tag}`);
    const b = records(`b${tag}`);
    let tOurs = 0;
    let tRaw = 0;
    for (let i = 0, k = 0; i < MESSAGES; i += BATCH, k++) {
      const sides: Array<() => Promise<void>> = [
        async () => {
          const t = performance.now();
          await ours(a.slice(i, i + BATCH));
          tOurs += performance.now() - t;
        },
        async () => {
          const t = performance.now();
          await baseline(b.slice(i, i + BATCH));
          tRaw += performance.now() - t;
        },
      ];
      if (k % 2 === 1) sides.reverse();
      for (const side of sides) await side();
    }
    return [MESSAGES / (tOurs / 1000), MESSAGES / (tRaw / 1000)];
  };

  const oursRates: number[] = [];
  const rawRates: number[] = [];
  try {
    await round('warm'); // JIT, channel set-up
    await adminCh.purgeQueue(QUEUE);
    for (let r = 0; r < ROUNDS; r++) {
      const [o, b] = await round(String(r));
      oursRates.push(o);
      rawRates.push(b);
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
