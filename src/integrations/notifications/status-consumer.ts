import { EventEmitter } from 'node:events';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { Store } from '../../kernel/store/index.js';
import type { Logger, Metrics } from '../../kernel/telemetry/index.js';
import type { RabbitConnection } from './connection.js';
import { type StatusReport, statusReportSchema } from './schemas.js';
import { applyStatusReport } from './status.js';
import { STATUS_QUEUE } from './topology.js';

export interface StatusConsumerOptions {
  connection: RabbitConnection;
  store: Store;
  prefetch?: number;
  logger: Logger;
  metrics?: Metrics;
  /** Wait before requeueing a report the store could not take (store down). Default 1 s. */
  requeueDelayMs?: number;
}

/**
 * Consumes delivery reports from `notification_status` (manual acks, prefetch) and moves the ledger.
 * A report is acked only after its transaction committed; duplicates (same messageId) are acked and
 * ignored; an unparseable report is rejected to `notification_status.dlq`. Emits `report` after each
 * applied report: `(report: StatusReport)`.
 */
export class StatusConsumer extends EventEmitter {
  private stopped = false;
  private channel: Channel | undefined;
  private readonly outcomes;

  constructor(private readonly opts: StatusConsumerOptions) {
    super();
    this.outcomes = opts.metrics?.counter(
      'carebridge_notifications_status_reports_total',
      'Delivery reports consumed, by outcome.',
      ['outcome'],
    );
  }

  async start(): Promise<void> {
    await this.opts.connection.onConnect((model) => this.subscribe(model));
  }

  private async subscribe(model: ChannelModel): Promise<void> {
    if (this.stopped) return;
    const ch = await model.createChannel();
    ch.on('error', () => {});
    ch.on('close', () => {
      if (this.channel === ch) this.channel = undefined;
      // The connection is still up but our channel died: run the whole set-up again.
      if (!this.stopped && this.opts.connection.model === model)
        this.opts.connection.recycle(new Error('status channel closed'));
    });
    await ch.prefetch(this.opts.prefetch ?? 50);
    await ch.consume(STATUS_QUEUE, (msg) => {
      if (msg) void this.handle(ch, msg);
    });
    this.channel = ch;
  }

  private async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    let report: StatusReport;
    try {
      report = statusReportSchema.parse(JSON.parse(msg.content.toString('utf8')));
    } catch {
      this.outcomes?.inc({ outcome: 'invalid' });
      this.opts.logger.warn(
        { messageId: msg.properties.messageId },
        'unparseable delivery report rejected to the DLQ',
      );
      safe(() => ch.nack(msg, false, false));
      return;
    }
    const eventId = String(
      msg.properties.messageId ?? `${report.notificationId}:${report.status}:${report.attempt}`,
    );
    try {
      const outcome = await applyStatusReport(this.opts.store, report, eventId);
      this.outcomes?.inc({ outcome });
      if (outcome === 'unknown_notification') {
        this.opts.logger.warn(
          { notificationId: report.notificationId },
          'delivery report for an unknown notification ignored',
        );
      }
      safe(() => ch.ack(msg));
      if (outcome === 'applied') this.emit('report', report);
    } catch (err) {
      this.outcomes?.inc({ outcome: 'error' });
      this.opts.logger.warn(
        { err, notificationId: report.notificationId },
        'could not apply delivery report; requeueing',
      );
      setTimeout(() => safe(() => ch.nack(msg, false, true)), this.opts.requeueDelayMs ?? 1_000).unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const ch = this.channel;
    this.channel = undefined;
    if (ch) await ch.close().catch(() => {});
  }
}

// A channel that closed under us throws on ack; the broker redelivers the message on the next channel.
function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    /* channel gone */
  }
}
