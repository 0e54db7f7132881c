import type { Redis } from 'ioredis';
import { errors } from '../errors/index.js';
import type { CheckResult, Logger } from '../telemetry/index.js';
import { resilienceErrors } from './errors.js';
import type { RateLimiter } from './rate-limiter.js';
import { RedisWatch } from './redis-watch.js';

/**
 * Takes one token if available. Uses the Redis server's clock (TIME) so instances with skewed clocks agree.
 * Returns 0 when a token was taken, otherwise the milliseconds until one will be available (nothing taken).
 * KEYS[1] = bucket hash; ARGV = rate per second, burst.
 */
const SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000); ts = now end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 60000)
return wait
`;

export interface RedisTokenBucketOptions {
  redis: Redis;
  /** Bucket name shared by every instance, e.g. 'payments:acct_main' (never a secret: it becomes a Redis key). */
  name: string;
  ratePerSecond: number;
  burst?: number;
  /** Callers of THIS instance allowed to wait; one more fails fast. Default 100. */
  maxQueue?: number;
  /** When Redis cannot be reached: 'allow' (default; the provider's own 429s still reach the pipeline) or 'deny'. */
  onRedisError?: 'allow' | 'deny';
  logger?: Logger;
}

/**
 * A token bucket whose state lives in Redis, for provider limits that must hold across gateway instances
 * (ARCHITECTURE.md, "Scale-out"). Same contract as TokenBucket: wait in a bounded queue, then
 * RATE_LIMIT_QUEUE_FULL. Waiters poll Redis after the wait it announces, so order across instances is
 * approximately, not strictly, first come first served.
 */
export class RedisTokenBucket implements RateLimiter {
  private readonly key: string;
  private readonly burst: number;
  private waiting = 0;
  private readonly watch: RedisWatch;

  constructor(private readonly options: RedisTokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('RedisTokenBucket: ratePerSecond must be > 0');
    this.watch = RedisWatch.of(options.redis, options.logger);
    this.burst = options.burst ?? Math.max(1, options.ratePerSecond);
    this.key = `carebridge:ratelimit:${options.name}`;
  }

  /** Readiness of the Redis behind this bucket (PING; down with the reason in words). */
  check(): Promise<CheckResult> {
    return this.watch.check();
  }

  async acquire(signal?: AbortSignal): Promise<void> {
    let queued = false;
    try {
      for (;;) {
        if (signal?.aborted) throw aborted(this.options.name);
        const wait = await this.take();
        if (wait === 0) return;
        if (!queued) {
          if (this.waiting >= (this.options.maxQueue ?? 100)) {
            throw resilienceErrors.rateLimitQueueFull(
              `The outbound rate limit of ${this.options.name} is saturated; try again later.`,
              {
                retryAfterSeconds: Math.max(1, Math.ceil((this.waiting + 1) / this.options.ratePerSecond)),
                details: { notSent: true },
              },
            );
          }
          queued = true;
          this.waiting++;
        }
        await sleep(wait, signal, this.options.name);
      }
    } finally {
      if (queued) this.waiting--;
    }
  }

  private async take(): Promise<number> {
    try {
      return Number(
        await this.options.redis.eval(
          SCRIPT,
          1,
          this.key,
          String(this.options.ratePerSecond),
          String(this.burst),
        ),
      );
    } catch (err) {
      // Warned once per reason, in words, by the watch (it was one warning per call, saying only "unreachable").
      this.watch.failed(err);
      if (this.options.onRedisError === 'deny') {
        throw errors.dependencyDown('The shared rate limiter is unavailable.', {
          cause: err,
          details: { notSent: true },
        });
      }
      return 0;
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(aborted(name));
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted(name));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
  });
}

function aborted(name: string) {
  return errors.upstreamTimeout(`Gave up waiting for the outbound rate limit of ${name}.`, {
    details: { notSent: true },
  });
}
