import { rejectUnknownOptions } from '../../kernel/config/index.js';
import type { Store } from '../../kernel/store/index.js';
import { notificationErrors } from './errors.js';
import { enqueueNotification, getNotificationStatus } from './ledger.js';
import {
  type Channel,
  type EmailInput,
  LIMITS,
  type NotificationInput,
  type NotificationStatus,
  type PushInput,
  type SmsInput,
} from './schemas.js';

export interface NotificationIntegrationOptions {
  store: Store;
  /** Poked after an enqueue so the outbox relay publishes without waiting for its next poll. */
  wakeRelay?: () => void;
}

export interface SendOptions {
  /** Carried as the AMQP correlationId (e.g. a payment id or the request id). */
  correlationId?: string;
}

/**
 * Sends email, SMS and push notifications through the notification service's RabbitMQ queues. A send writes
 * the ledger row and the outbox row in one transaction and returns at once with status `accepted`; the outbox
 * relay publishes with publisher confirms (`queued`), and delivery reports, applied by `StatusConsumer`, move it
 * on (`sent`, `delivered`, …); `getStatus` reads where it is.
 */
export class NotificationIntegration {
  wakeRelay: (() => void) | undefined;

  constructor(private readonly opts: NotificationIntegrationOptions) {
    rejectUnknownOptions('NotificationIntegration', opts, ['store', 'wakeRelay']);
    this.wakeRelay = opts.wakeRelay;
  }

  sendEmail(input: EmailInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send({ channel: 'email', ...input }, opts);
  }

  sendSms(input: SmsInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send({ channel: 'sms', ...input }, opts);
  }

  sendPush(input: PushInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send({ channel: 'push', ...input }, opts);
  }

  /** Accepts up to 500 notifications of one channel in one transaction: all are accepted, or none. */
  async sendBatch(
    channel: Channel,
    inputs: Array<EmailInput | SmsInput | PushInput>,
    opts?: SendOptions,
  ): Promise<NotificationStatus[]> {
    if (inputs.length === 0 || inputs.length > LIMITS.batch) {
      throw notificationErrors.invalidMessage(
        `a batch holds 1 to ${LIMITS.batch} notifications, got ${inputs.length}`,
        { details: { field: 'items' } },
      );
    }
    const ids = await this.opts.store.transaction(async (tx) => {
      const out: string[] = [];
      for (const [i, input] of inputs.entries()) {
        try {
          out.push((await enqueueNotification(tx, { channel, ...input } as NotificationInput, opts)).id);
        } catch (err) {
          const e = err as { details?: Record<string, unknown> };
          if (e.details && typeof e.details.field === 'string')
            e.details.field = `items.${i}.${e.details.field}`;
          throw err;
        }
      }
      return out;
    });
    this.wakeRelay?.();
    return Promise.all(ids.map((id) => getNotificationStatus(this.opts.store, id)));
  }

  getStatus(id: string): Promise<NotificationStatus> {
    return getNotificationStatus(this.opts.store, id);
  }

  private async send(input: NotificationInput, opts?: SendOptions): Promise<NotificationStatus> {
    const { id } = await this.opts.store.transaction((tx) => enqueueNotification(tx, input, opts));
    this.wakeRelay?.();
    return getNotificationStatus(this.opts.store, id);
  }
}
