import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import type { OutboxRecord, OutboxTransport, PublishResult } from '../../kernel/store/index.js';
import type { Logger, Metrics } from '../../kernel/telemetry/index.js';
import type { RabbitConnection } from './connection.js';
import { notificationErrors } from './errors.js';

export interface RabbitOutboxTransportOptions {
  connection: RabbitConnection;
  /** A batch's confirms must arrive within this time, or its unconfirmed rows fail (and are retried). Default 10 s. */
  confirmTimeoutMs?: number;
  /** Called with the ids the broker confirmed (e.g. to mark notifications `queued`); errors are only logged. */
  onConfirmed?: (records: OutboxRecord[]) => Promise<void>;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * `rabbitmq:<queue>` → default exchange, routing key `<queue>`; `rabbitmq:<exchange>/<routingKey>` → that exchange.
 * Outbox headers `x-correlation-id` and `x-message-type` become the AMQP correlationId and type properties.
 */
export function parseDestination(destination: string): { exchange: string; routingKey: string } {
  const rest = destination.replace(/^rabbitmq:/, '');
  const slash = rest.indexOf('/');
  return slash < 0
    ? { exchange: '', routingKey: rest }
    : { exchange: rest.slice(0, slash), routingKey: rest.slice(slash + 1) };
}

export function publishProperties(r: OutboxRecord): Options.Publish {
  const { 'x-correlation-id': correlationId, 'x-message-type': type, ...headers } = r.headers ?? {};
  return {
    persistent: true,
    mandatory: true,
    messageId: r.id,
    contentType: 'application/json',
    timestamp: Math.floor(r.createdAt.getTime() / 1000),
    ...(correlationId ? { correlationId } : {}),
    ...(type ? { type } : {}),
    headers: { ...headers, 'x-outbox-attempt': r.attempts },
  };
}

/**
 * The outbox transport for `rabbitmq:` destinations. Publishes a batch on a confirm channel with
 * `mandatory: true` and resolves only when the broker has confirmed (basic.ack) every message; a nack, a
 * basic.return (no queue bound), a closed channel or a confirm timeout fails that row, and the relay retries
 * it with backoff. When the broker is down the whole batch fails at once (the rows wait in the outbox).
 * At-least-once: a row whose confirm was lost is published again, so consumers dedupe by messageId.
 */
export class RabbitOutboxTransport implements OutboxTransport {
  private channel: ConfirmChannel | undefined;
  private channelModel: ChannelModel | undefined;
  private opening: Promise<ConfirmChannel> | undefined;
  private readonly returned = new Set<string>();
  private readonly confirmTimeoutMs: number;
  private readonly outcomes;

  constructor(private readonly opts: RabbitOutboxTransportOptions) {
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 10_000;
    this.outcomes = opts.metrics?.counter(
      'carebridge_notifications_publish_total',
      'Messages published to RabbitMQ by outcome.',
      ['outcome'],
    );
  }

  /**
   * Whether a publish can succeed now. The relay asks before claiming rows, so during a broker outage the
   * rows wait untouched instead of spending their attempts (and never reach 'dead' because of an outage).
   */
  ready(): boolean {
    return this.opts.connection.connected;
  }

  async publish(records: OutboxRecord[]): Promise<PublishResult[]> {
    if (records.length === 0) return [];
    let ch: ConfirmChannel;
    try {
      ch = await this.confirmChannel();
    } catch (err) {
      const error = notificationErrors.brokerUnavailable(`RabbitMQ unavailable: ${(err as Error).message}`, {
        cause: err,
      });
      this.outcomes?.inc({ outcome: 'unavailable' }, records.length);
      return records.map((r) => ({ id: r.id, ok: false as const, error }));
    }
    const results = await this.publishOn(ch, records);
    const confirmed = results.filter((r) => r.ok);
    this.outcomes?.inc({ outcome: 'confirmed' }, confirmed.length);
    if (results.length > confirmed.length)
      this.outcomes?.inc({ outcome: 'failed' }, results.length - confirmed.length);
    if (confirmed.length > 0 && this.opts.onConfirmed) {
      const okIds = new Set(confirmed.map((r) => r.id));
      await this.opts
        .onConfirmed(records.filter((r) => okIds.has(r.id)))
        .catch((err) =>
          this.opts.logger.warn(
            { err },
            'post-confirm hook failed (statuses catch up from delivery reports)',
          ),
        );
    }
    return results;
  }

  /**
   * Publishes every record and waits for all confirms (or the timeout). One counter and one promise per batch,
   * not one per message: the confirm callbacks write straight into `results`.
   */
  private async publishOn(ch: ConfirmChannel, records: OutboxRecord[]): Promise<PublishResult[]> {
    const results: Array<PublishResult | undefined> = new Array(records.length);
    let remaining = records.length;
    let finish: () => void = () => {};
    const allSettled = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const settle = (i: number, r: PublishResult) => {
      if (results[i]) return;
      results[i] = r;
      if (--remaining === 0) finish();
    };
    let closed = false;
    const onClose = () => {
      closed = true;
    };
    ch.once('close', onClose);
    const routes = new Map<string, { exchange: string; routingKey: string }>();
    try {
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (closed) {
          settle(i, {
            id: r.id,
            ok: false,
            error: notificationErrors.brokerUnavailable('channel closed before publish'),
          });
          continue;
        }
        let route = routes.get(r.destination);
        if (!route) {
          route = parseDestination(r.destination);
          routes.set(r.destination, route);
        }
        let writable = true;
        try {
          writable = ch.publish(
            route.exchange,
            route.routingKey,
            Buffer.from(JSON.stringify(r.payload)),
            publishProperties(r),
            (err) => {
              if (err) {
                const lost = /closed/i.test(String(err?.message ?? err));
                settle(i, {
                  id: r.id,
                  ok: false,
                  error: lost
                    ? notificationErrors.brokerUnavailable('channel closed before the broker confirmed')
                    : notificationErrors.publishNacked('the broker refused the message (basic.nack)'),
                });
              } else if (this.returned.delete(r.id)) {
                settle(i, {
                  id: r.id,
                  ok: false,
                  error: notificationErrors.unroutable(`no queue is bound for ${r.destination}`),
                });
              } else settle(i, { id: r.id, ok: true });
            },
          );
        } catch (err) {
          settle(i, {
            id: r.id,
            ok: false,
            error: notificationErrors.brokerUnavailable(`publish failed: ${(err as Error).message}`),
          });
        }
        if (!writable && !closed) await waitForDrain(ch);
      }
      const timer = setTimeout(finish, this.confirmTimeoutMs);
      await allSettled;
      clearTimeout(timer);
    } finally {
      ch.off('close', onClose);
    }
    if (remaining > 0) {
      // Confirms are lost for good on this channel; a fresh one starts clean.
      this.dropChannel();
      const error = notificationErrors.confirmTimeout(`no broker confirm within ${this.confirmTimeoutMs} ms`);
      for (let i = 0; i < records.length; i++) results[i] ??= { id: records[i]!.id, ok: false, error };
    }
    return results as PublishResult[];
  }

  private async confirmChannel(): Promise<ConfirmChannel> {
    const model = this.opts.connection.model;
    if (!model) throw new Error('not connected');
    if (this.channel && this.channelModel === model) return this.channel;
    this.opening ??= (async () => {
      try {
        // A 1 MiB write buffer: a relay batch (≤ 500 messages) goes out without waiting for drain after every few.
        const ch = await model.createConfirmChannel({ highWaterMark: 1024 * 1024 });
        ch.on('error', () => {});
        ch.on('return', (msg) => {
          if (msg.properties.messageId) this.returned.add(String(msg.properties.messageId));
        });
        ch.on('close', () => {
          if (this.channel === ch) this.dropChannel();
        });
        this.channel = ch;
        this.channelModel = model;
        return ch;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  private dropChannel(): void {
    const ch = this.channel;
    this.channel = undefined;
    this.channelModel = undefined;
    this.returned.clear();
    if (ch) void ch.close().catch(() => {});
  }

  async close(): Promise<void> {
    this.dropChannel();
  }
}

function waitForDrain(ch: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ch.off('drain', done);
      ch.off('close', done);
      resolve();
    };
    ch.once('drain', done);
    ch.once('close', done);
  });
}
