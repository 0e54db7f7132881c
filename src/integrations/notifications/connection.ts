import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel, type RecoveringChannelModel } from 'amqplib';
import {
  type CheckResult,
  FailureReporter,
  type Logger,
  type Metrics,
  maskCredentials,
} from '../../kernel/telemetry/index.js';
import { describeConnectFailure } from './connect-failure.js';

export interface RabbitTlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  rejectUnauthorized?: boolean;
}

export interface RabbitConnectionOptions {
  /** amqp:// or amqps:// (the path is the vhost). */
  url: string;
  /** Override the URL's credentials (from secrets). */
  username?: string;
  password?: string;
  /** CA and client certificate for amqps:// (mutual TLS). */
  tls?: RabbitTlsOptions;
  /** Shown in the management UI. */
  connectionName?: string;
  /** AMQP heartbeat (s). Default 15: a dead TCP peer is noticed within about 30 s. */
  heartbeatSeconds?: number;
  /** Reconnect backoff: exponential with 20 % jitter. Defaults 100 ms and 5 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

type SetupHook = (model: ChannelModel) => Promise<void>;

/** Builds the URL amqplib connects to: credential overrides and a heartbeat unless the URL sets one. */
export function connectionUrl(
  opts: Pick<RabbitConnectionOptions, 'url' | 'username' | 'password' | 'heartbeatSeconds'>,
): string {
  const u = new URL(opts.url);
  if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:')
    throw new RangeError(`RabbitMQ URL must be amqp:// or amqps://, got ${u.protocol}//`);
  if (opts.username !== undefined) u.username = encodeURIComponent(opts.username);
  if (opts.password !== undefined) u.password = encodeURIComponent(opts.password);
  if (!u.searchParams.has('heartbeat')) u.searchParams.set('heartbeat', String(opts.heartbeatSeconds ?? 15));
  return u.toString();
}

/**
 * One recovering AMQP connection (amqplib's opt-in recovery). Every hook registered with `onConnect` runs
 * after each (re)connect, in registration order, before the connection counts as up — topology first,
 * then publishers and consumers re-create their channels. A failing hook closes the attempt and the next
 * one is scheduled with backoff. A channel that dies on a live connection calls `recycle()`, which makes
 * the whole set-up run again on a fresh connection (simple, and the same path as a broker restart).
 */
export class RabbitConnection extends EventEmitter {
  private readonly hooks: SetupHook[] = [];
  private current: ChannelModel | undefined;
  /** Why the last attempt failed or the connection was lost, in words (readiness `detail`). */
  private lastError: string | undefined;
  /** One warning per distinct reason, not one per reconnect attempt. */
  private readonly failures: FailureReporter;
  /** When the running attempt started, when its AMQP handshake finished, and how long the last one took. */
  private attemptStartedAt = performance.now();
  private openedAt = 0;
  private latencyMs: number | undefined;
  private closed = false;
  private readonly conn: Promise<RecoveringChannelModel>;
  readonly target: string;

  constructor(private readonly opts: RabbitConnectionOptions) {
    super();
    this.target = opts.url;
    this.failures = new FailureReporter({ dependency: 'RabbitMQ', target: opts.url, logger: opts.logger });
    const describe = (err: Error) =>
      describeConnectFailure(err, {
        url: opts.url,
        ...(opts.username === undefined ? {} : { username: opts.username }),
      });
    const up = opts.metrics?.gauge(
      'carebridge_notifications_broker_up',
      'Whether the RabbitMQ connection is up (1) or down (0).',
    );
    const reconnects = opts.metrics?.counter(
      'carebridge_notifications_broker_reconnects_total',
      'RabbitMQ reconnect attempts.',
    );
    up?.set(0);
    const tls = opts.tls ?? {};
    this.conn = amqp.connect(connectionUrl(opts), {
      ...(tls.ca ? { ca: [tls.ca] } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
      ...(tls.passphrase ? { passphrase: tls.passphrase } : {}),
      ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
      clientProperties: { connection_name: opts.connectionName ?? 'carebridge' },
      recovery: {
        waitForConnect: false,
        initialDelay: opts.initialDelayMs ?? 100,
        maxDelay: opts.maxDelayMs ?? 5_000,
        factor: 2,
        jitter: 0.2,
        maxRetries: Number.POSITIVE_INFINITY,
        setup: async (model: ChannelModel) => {
          this.openedAt = performance.now();
          model.on('error', () => {}); // 'close' follows and drives recovery
          for (const hook of this.hooks) await hook(model);
        },
      },
    });
    void this.conn.then((c) => {
      c.on('connect', (model: ChannelModel) => {
        this.current = model;
        this.lastError = undefined;
        this.latencyMs = this.openedAt - this.attemptStartedAt;
        this.failures.succeeded();
        up?.set(1);
        opts.logger.info({ target: this.safeTarget }, 'RabbitMQ connected');
        this.emit('connect', model);
      });
      c.on('disconnect', (err: Error) => {
        this.current = undefined;
        this.lastError = `connection lost: ${describe(err)}`;
        this.attemptStartedAt = performance.now();
        up?.set(0);
        opts.logger.warn(
          { target: this.safeTarget, err: err.message },
          'RabbitMQ connection lost; reconnecting',
        );
        this.emit('disconnect', err);
      });
      c.on('connect-failed', (err: Error) => {
        this.lastError = describe(err);
        this.latencyMs = performance.now() - this.attemptStartedAt;
        this.failures.failed(this.lastError, err);
        this.emit('connect-failed', err);
      });
      c.on('reconnect-scheduled', (info: { attempt: number; delay: number }) => {
        this.attemptStartedAt = performance.now() + info.delay;
        reconnects?.inc();
        opts.logger.debug({ attempt: info.attempt, delayMs: info.delay }, 'RabbitMQ reconnect scheduled');
      });
      c.on('error', () => {});
    });
  }

  private get safeTarget(): string {
    return maskCredentials(this.opts.url);
  }

  /** Runs `hook` after every (re)connect; if connected now, also runs it on the current connection. */
  async onConnect(hook: SetupHook): Promise<void> {
    this.hooks.push(hook);
    if (this.current) {
      try {
        await hook(this.current);
      } catch (err) {
        this.recycle(err as Error);
      }
    }
  }

  get connected(): boolean {
    return this.current !== undefined;
  }

  get model(): ChannelModel | undefined {
    return this.current;
  }

  /** Resolves at the next successful connect (or at once when connected); rejects after `timeoutMs`. */
  waitUntilConnected(timeoutMs = 10_000): Promise<void> {
    if (this.current) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('connect', onConnect);
        reject(
          new Error(
            `RabbitMQ not connected within ${timeoutMs} ms${this.lastError ? `: ${this.lastError}` : ''}`,
          ),
        );
      }, timeoutMs);
      const onConnect = () => {
        clearTimeout(timer);
        resolve();
      };
      this.once('connect', onConnect);
    });
  }

  /** Closes the current connection so recovery runs every hook again on a new one. */
  recycle(reason?: Error): void {
    const model = this.current;
    if (!model || this.closed) return;
    this.opts.logger.warn({ err: reason?.message }, 'RabbitMQ channel lost; recycling the connection');
    void model.close().catch(() => {});
  }

  /**
   * Readiness: up while connected; down with the reason otherwise (the broker's refusal in words); `pending`
   * until the first attempt has an answer. The latency is the AMQP handshake of the last attempt (until the
   * refusal, for a failed one).
   */
  health(): CheckResult {
    const latency = this.latencyMs === undefined ? {} : { latencyMs: this.latencyMs };
    if (this.current) return { status: 'up', detail: 'connected', ...latency };
    if (this.lastError) return { status: 'down', detail: this.lastError.slice(0, 300), ...latency };
    return { status: 'down', detail: 'connecting', pending: true };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.current = undefined;
    await (await this.conn).close().catch(() => {});
  }
}
