import { EventEmitter } from 'node:events';
import amqp, {
  type Channel,
  type ChannelModel,
  type ConfirmChannel,
  type ConsumeMessage,
  type RecoveringChannelModel,
} from 'amqplib';
import { acquireStateDir, SandboxStateFile } from '../common/index.js';
import { type DispatchOutcome, dispatch } from './dispatch.js';
import { FakePushProvider, FakeSmsProvider, type PushRecord, type SmsRecord } from './providers.js';
import { type SavedSink, SmtpSender, SmtpSink } from './smtp.js';
import {
  declareServiceTopology,
  RETRY_EXCHANGE,
  retryQueue,
  type ServiceChannel,
  STATUS_QUEUE,
  WORK_QUEUES,
} from './topology.js';

export interface ReferenceServiceOptions {
  /** amqp:// URL (vhost in the path). */
  url: string;
  /** TLS for amqps:// (CA and client certificate). */
  socketOptions?: Record<string, unknown>;
  /** Delay before each retry; attempts in total = retryDelaysMs.length + 1, then the dead-letter queue. */
  retryDelaysMs: readonly number[];
  /** Unacknowledged deliveries per queue consumer. Default 50. */
  prefetch?: number;
  /**
   * Folder to keep the mailbox, logs and dedupe memory in (`sandboxStateDir(dataDir)`): loaded at start,
   * saved soon after every handled message and at stop. Unset: memory only.
   */
  stateDir?: string;
  /** A save failed (the next change retries). */
  onSaveError?: (err: unknown) => void;
}

export type ReportStatus = 'sent' | 'delivered' | 'failed' | 'bounced' | 'dead_lettered' | 'retrying';
export interface Report {
  schemaVersion: 1;
  notificationId: string;
  status: ReportStatus;
  at: string;
  attempt: number;
  provider?: string;
  providerMessageId?: string;
  reason?: string;
}

type Final = { reports: Report[]; action: 'ack' | 'dead-letter' };

/** What `<stateDir>/notifications.json` holds (version 1); maps as entry arrays, oldest first. */
interface SavedNotifications {
  sink: SavedSink;
  smsLog: SmsRecord[];
  pushLog: PushRecord[];
  deliveries: Array<[string, number]>;
  finals: Array<[string, Final]>;
  retried: Array<[string, number]>;
}

/**
 * Bounds for a long-running development instance: dedupe memory and the logs shown by /_sandbox/state, both
 * saved under the data dir. The dedupe memory only has to cover redeliveries (unacked messages after a crash
 * or a broker restart: minutes), so 20 000 notifications is plenty and keeps the saved file a few MB.
 */
const MAX_REMEMBERED = 20_000;
const MAX_LOGGED = 10_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as K);
}

function trim<T>(log: T[]): void {
  if (log.length > MAX_LOGGED) log.splice(0, log.length - MAX_LOGGED);
}

/**
 * The reference notification service: consumes the three queues with manual acks and prefetch, dedupes by
 * messageId, delivers (SMTP sink, SMS and push fakes), retries transient failures through the TTL retry
 * queues, dead-letters after the last attempt, and publishes a delivery report for every transition on a
 * confirm channel. A message is acked only after its reports are confirmed, so a broker restart at any
 * point leads to a redelivery, which the dedupe map answers by re-sending the same reports — never by
 * delivering twice. Emits `report` (Report) and `delivery` (channel, notificationId).
 */
export class ReferenceNotificationService extends EventEmitter {
  readonly sink = new SmtpSink();
  readonly sms = new FakeSmsProvider();
  readonly push = new FakePushProvider();
  /** How often each notification reached a recipient (tests assert "exactly once"). */
  readonly deliveries = new Map<string, number>();
  private sender: SmtpSender | undefined;
  private conn: RecoveringChannelModel | undefined;
  private publisher: ConfirmChannel | undefined;
  private readonly finals = new Map<string, Final>();
  /** Highest attempt already handed to a retry queue, per notification: older copies are stale duplicates. */
  private readonly retried = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private connected = false;
  private stopped = false;
  private readonly maxAttempts: number;
  private file: SandboxStateFile<SavedNotifications> | undefined;
  private releaseDir: (() => void) | undefined;

  constructor(private readonly opts: ReferenceServiceOptions) {
    super();
    this.maxAttempts = opts.retryDelaysMs.length + 1;
  }

  /** `<stateDir>/notifications.json`, or undefined when the records live in memory only. */
  get stateFile(): string | undefined {
    return this.file?.file;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  async start(): Promise<void> {
    if (this.opts.stateDir) this.loadState(this.opts.stateDir);
    try {
      const port = await this.sink.listen();
      this.sender = new SmtpSender(port);
      this.conn = await amqp.connect(this.opts.url, {
        ...(this.opts.socketOptions ?? {}),
        clientProperties: { connection_name: 'carebridge-sandbox-notifications' },
        recovery: {
          waitForConnect: false,
          initialDelay: 100,
          maxDelay: 5_000,
          setup: (model: ChannelModel) => this.setup(model),
        },
      });
    } catch (err) {
      this.releaseDir?.();
      this.releaseDir = undefined;
      throw err;
    }
    this.conn.on('connect', () => {
      this.connected = true;
      this.emit('connect');
    });
    this.conn.on('disconnect', () => {
      this.connected = false;
      this.publisher = undefined;
    });
    this.conn.on('error', () => {});
  }

  private async setup(model: ChannelModel): Promise<void> {
    model.on('error', () => {});
    const recycle = () => {
      if (!this.stopped) void model.close().catch(() => {});
    };
    const admin = await model.createChannel();
    await declareServiceTopology(admin, this.opts.retryDelaysMs);
    await admin.close();
    const publisher = await model.createConfirmChannel();
    publisher.on('error', () => {});
    publisher.on('close', recycle);
    this.publisher = publisher;
    for (const [channel, queue] of Object.entries(WORK_QUEUES) as Array<[ServiceChannel, string]>) {
      const ch = await model.createChannel();
      ch.on('error', () => {});
      ch.on('close', recycle);
      await ch.prefetch(this.opts.prefetch ?? 50);
      await ch.consume(queue, (msg) => {
        if (msg) void this.handle(ch, queue, channel, msg);
      });
    }
  }

  private async handle(
    ch: Channel,
    queue: string,
    channel: ServiceChannel,
    msg: ConsumeMessage,
  ): Promise<void> {
    const id = msg.properties.messageId ? String(msg.properties.messageId) : undefined;
    const attempt = Number(msg.properties.headers?.['x-attempt'] ?? 1);
    if (!id) return this.settle(ch, msg, { reports: [], action: 'dead-letter' });
    // One copy of a notification at a time; a concurrent duplicate waits and then meets the dedupe map.
    while (this.inFlight.has(id)) await this.inFlight.get(id);
    const work = this.process(ch, queue, channel, msg, id, attempt);
    this.inFlight.set(id, work);
    try {
      await work;
    } finally {
      this.inFlight.delete(id);
      this.file?.changed();
    }
  }

  private async process(
    ch: Channel,
    queue: string,
    channel: ServiceChannel,
    msg: ConsumeMessage,
    id: string,
    attempt: number,
  ) {
    const done = this.finals.get(id);
    if (done) return this.settle(ch, msg, done); // redelivery after a lost ack: same reports, no second delivery
    if (attempt < (this.retried.get(id) ?? 0)) return this.settle(ch, msg, { reports: [], action: 'ack' }); // stale copy
    const outcome = await this.deliver(channel, id, msg.content, attempt);
    const now = () => new Date().toISOString();
    const base = { schemaVersion: 1 as const, notificationId: id, attempt, provider: outcome.provider };
    let final: Final;
    switch (outcome.kind) {
      case 'delivered':
        remember(this.deliveries, id, (this.deliveries.get(id) ?? 0) + 1);
        for (const log of [this.sink.mailbox, this.sink.bounced, this.sms.log, this.push.log] as unknown[][])
          trim(log);
        this.emit('delivery', channel, id);
        final = {
          action: 'ack',
          reports: [
            { ...base, status: 'sent', at: now(), providerMessageId: outcome.providerMessageId },
            { ...base, status: 'delivered', at: now(), providerMessageId: outcome.providerMessageId },
          ],
        };
        break;
      case 'undelivered':
        final = {
          action: 'ack',
          reports: [
            { ...base, status: 'sent', at: now(), providerMessageId: outcome.providerMessageId },
            {
              ...base,
              status: channel === 'email' ? 'bounced' : 'failed',
              at: now(),
              providerMessageId: outcome.providerMessageId,
              reason: outcome.reason,
            },
          ],
        };
        break;
      case 'permanent':
        final = {
          action: 'ack',
          reports: [{ ...base, status: 'failed', at: now(), reason: outcome.reason }],
        };
        break;
      case 'invalid':
        final = {
          action: 'dead-letter',
          reports: [{ ...base, status: 'dead_lettered', at: now(), reason: outcome.reason }],
        };
        break;
      case 'transient': {
        if (attempt < this.maxAttempts) {
          const ok = await this.scheduleRetry(queue, msg, attempt);
          if (!ok) return; // broker gone: no ack, the message comes back
          remember(this.retried, id, attempt + 1);
          return this.settle(ch, msg, {
            action: 'ack',
            reports: [{ ...base, status: 'retrying', at: now(), reason: outcome.reason }],
          });
        }
        final = {
          action: 'dead-letter',
          reports: [
            {
              ...base,
              status: 'dead_lettered',
              at: now(),
              reason: `attempts exhausted (${attempt}): ${outcome.reason}`,
            },
          ],
        };
        break;
      }
    }
    remember(this.finals, id, final);
    return this.settle(ch, msg, final);
  }

  private deliver(
    channel: ServiceChannel,
    id: string,
    body: Buffer,
    attempt: number,
  ): Promise<DispatchOutcome> {
    return dispatch({ smtp: this.sender!, sms: this.sms, push: this.push }, channel, id, body, attempt);
  }

  /** Publishes a copy with the next attempt number to the retry queue for this attempt's delay. */
  private async scheduleRetry(queue: string, msg: ConsumeMessage, attempt: number): Promise<boolean> {
    const delay = this.opts.retryDelaysMs[attempt - 1]!;
    const headers = { ...(msg.properties.headers ?? {}), 'x-attempt': attempt + 1 };
    return this.confirmPublish(RETRY_EXCHANGE, retryQueue(queue, delay), msg.content, {
      ...msg.properties,
      headers,
      persistent: true,
    });
  }

  /** Publishes the reports (confirmed), then acks or dead-letters the message. */
  private async settle(ch: Channel, msg: ConsumeMessage, final: Final): Promise<void> {
    for (const r of final.reports) {
      const body = Buffer.from(JSON.stringify(r));
      const ok = await this.confirmPublish('', STATUS_QUEUE, body, {
        persistent: true,
        contentType: 'application/json',
        messageId: `${r.notificationId}:${r.status}:${r.attempt}`,
        correlationId: r.notificationId,
        type: 'notification.status.v1',
      });
      if (!ok) return; // the message will be redelivered and these reports sent again
    }
    for (const r of final.reports) this.emit('report', r);
    try {
      if (final.action === 'ack') ch.ack(msg);
      else ch.nack(msg, false, false); // → notifications.dlx → <queue>.dlq
    } catch {
      /* channel closed: redelivered later, answered from the dedupe map */
    }
  }

  private confirmPublish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    props: Record<string, unknown>,
  ): Promise<boolean> {
    const pub = this.publisher;
    if (!pub) return Promise.resolve(false);
    return new Promise((resolve) => {
      try {
        pub.publish(exchange, routingKey, body, props, (err) => resolve(!err));
      } catch {
        resolve(false);
      }
    });
  }

  /** Mailbox, SMS log and push log (for GET /_sandbox/state). */
  state() {
    return {
      connected: this.connected,
      mailbox: this.sink.mailbox,
      bounced: this.sink.bounced,
      smsLog: this.sms.log,
      pushLog: this.push.log,
      counts: {
        mailbox: this.sink.mailbox.length,
        bounced: this.sink.bounced.length,
        sms: this.sms.log.length,
        push: this.push.log.length,
        processed: this.finals.size,
      },
    };
  }

  /** Forgets the mailbox, logs and dedupe memory, in memory and on disk. */
  async reset(): Promise<void> {
    this.sink.reset();
    this.sms.log.length = 0;
    this.push.log.length = 0;
    this.deliveries.clear();
    this.finals.clear();
    this.retried.clear();
    await this.file?.clear();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.conn?.close().catch(() => {});
    this.sender?.close();
    await this.sink.close();
    try {
      await this.file?.close();
    } finally {
      this.releaseDir?.();
      this.releaseDir = undefined;
    }
  }

  private loadState(dir: string): void {
    this.releaseDir = acquireStateDir(dir);
    this.file = new SandboxStateFile<SavedNotifications>({
      dir,
      name: 'notifications',
      version: 1,
      snapshot: () => ({
        sink: this.sink.snapshot(),
        smsLog: [...this.sms.log],
        pushLog: [...this.push.log],
        deliveries: [...this.deliveries],
        finals: [...this.finals],
        retried: [...this.retried],
      }),
      ...(this.opts.onSaveError ? { onError: this.opts.onSaveError } : {}),
    });
    let saved: SavedNotifications | undefined;
    try {
      saved = this.file.load();
      if (!saved) return;
      this.sink.restore(saved.sink);
      for (const r of saved.smsLog) this.sms.log.push(r);
      for (const r of saved.pushLog) this.push.log.push(r);
      for (const [k, v] of saved.deliveries) remember(this.deliveries, k, v);
      for (const [k, v] of saved.finals) remember(this.finals, k, v);
      for (const [k, v] of saved.retried) remember(this.retried, k, v);
    } catch (err) {
      if (!saved) {
        this.releaseDir();
        this.releaseDir = undefined;
        throw err;
      }
      // The right version but the wrong shape (edited by hand): start empty, keep the file for a look.
      this.file.setAside();
      this.sink.reset();
      this.sms.log.length = 0;
      this.push.log.length = 0;
      this.deliveries.clear();
      this.finals.clear();
      this.retried.clear();
    }
  }
}
