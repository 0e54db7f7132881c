import type { Redis } from 'ioredis';
import { type CheckResult, FailureReporter, type Logger, socketFailureReason } from '../telemetry/index.js';

const HINT = '(check REDIS_URL)';
/** ioredis's own words for "not connected", which say nothing about why. */
const NOT_CONNECTED =
  /Connection is closed|Stream isn't writeable|max retries per request|Connection in subscriber mode/i;

/**
 * Why a Redis client cannot be used, in plain words, watched once per client (its `error` events carry the
 * reason; a failed command only says "Connection is closed."). It warns once per distinct reason and answers
 * the readiness check of whoever wires REDIS_URL: `health.register({ name: 'redis', check: () => watch.check() })`.
 */
export class RedisWatch {
  private static readonly watches = new WeakMap<Redis, RedisWatch>();
  private lastError: string | undefined;
  private readonly failures: FailureReporter | undefined;
  private readonly where: string;

  /** The watch of `redis` (created, with its listeners, on first use). */
  static of(redis: Redis, logger?: Logger): RedisWatch {
    let watch = RedisWatch.watches.get(redis);
    if (!watch) {
      watch = new RedisWatch(redis, logger);
      RedisWatch.watches.set(redis, watch);
    }
    return watch;
  }

  private constructor(
    private readonly redis: Redis,
    logger: Logger | undefined,
  ) {
    const o = redis.options;
    this.where = o.path ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
    this.failures = logger
      ? new FailureReporter({ dependency: 'Redis', target: `redis://${this.where}`, logger })
      : undefined;
    redis.on('error', (err: Error) => {
      this.lastError = this.describe(err);
      this.failures?.failed(this.lastError, err);
    });
    redis.on('ready', () => {
      this.lastError = undefined;
      this.failures?.succeeded();
    });
  }

  /** The reason a command failed: the client's last connection error when the command only says "not connected". */
  reason(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    if (NOT_CONNECTED.test(message))
      return this.lastError ?? `not connected to Redis at ${this.where} ${HINT}`;
    return this.describe(err);
  }

  /** A failed command: warns (once per reason) unless it only says the client is not connected (its error did). */
  failed(err: unknown): string {
    const reason = this.reason(err);
    const message = err instanceof Error ? err.message : String(err);
    if (!NOT_CONNECTED.test(message)) this.failures?.failed(reason, err);
    return reason;
  }

  /** Readiness: a PING round trip. */
  async check(): Promise<CheckResult> {
    try {
      await this.redis.ping();
      return { status: 'up', detail: 'PONG' };
    } catch (err) {
      return { status: 'down', detail: this.reason(err) };
    }
  }

  private describe(err: unknown): string {
    const message = err instanceof Error ? err.message : String(err);
    if (/^WRONGPASS/.test(message))
      return `login refused: ${message} (check the user and password in REDIS_URL)`;
    if (/^NOAUTH/.test(message))
      return `the server requires a password: ${message} (set it in REDIS_URL, redis://:password@host)`;
    if (/^NOPERM/.test(message)) return `permission denied: ${message} (the REDIS_URL user lacks it)`;
    if (/DB index is out of range/i.test(message))
      return `database index out of range: ${message} (check the /<db> of REDIS_URL)`;
    const socket = socketFailureReason(err, this.where);
    if (socket) return `${socket} ${HINT}`;
    return message.slice(0, 200);
  }
}
