import { rejectUnknownOptions } from '../../kernel/config/index.js';
import type { Store } from '../../kernel/store/index.js';
import { notificationErrors } from './errors.js';
import { enqueueNotification, getNotificationStatus, getNotificationStatuses } from './ledger.js';
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

/** What each channel takes: `send('sms', { to, text })`. */
export interface ChannelInput {
  email: EmailInput;
  sms: SmsInput;
  push: PushInput;
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

  /** Accepts one notification on `channel` (ledger + outbox, one transaction); answers with status `accepted`. */
  async send<C extends Channel>(
    channel: C,
    input: ChannelInput[C],
    opts?: SendOptions,
  ): Promise<NotificationStatus> {
    const { id } = await this.opts.store.transaction((tx) =>
      enqueueNotification(tx, withChannel(channel, input), opts),
    );
    this.wakeRelay?.();
    return getNotificationStatus(this.opts.store, id);
  }

  sendEmail(input: EmailInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send('email', input, opts);
  }

  sendSms(input: SmsInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send('sms', input, opts);
  }

  sendPush(input: PushInput, opts?: SendOptions): Promise<NotificationStatus> {
    return this.send('push', input, opts);
  }

  /** Accepts up to 500 notifications of one channel in one transaction: all are accepted, or none. */
  async sendBatch<C extends Channel>(
    channel: C,
    inputs: Array<ChannelInput[C]>,
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
          out.push((await enqueueNotification(tx, withChannel(channel, input), opts)).id);
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
    return getNotificationStatuses(this.opts.store, ids);
  }

  getStatus(id: string): Promise<NotificationStatus> {
    return getNotificationStatus(this.opts.store, id);
  }
}

/** `{ channel, ...input }`: TypeScript cannot see that `C` ties the two, so the one cast lives here. */
function withChannel<C extends Channel>(channel: C, input: ChannelInput[C]): NotificationInput {
  return { channel, ...input } as NotificationInput;
}
