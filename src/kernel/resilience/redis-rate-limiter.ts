import type { Redis } from 'ioredis';
import { errors } from '../errors/index.js';
import type { CheckResult, Logger } from '../telemetry/index.js';
import { resilienceErrors } from './errors.js';
import { type RateLimiter, TokenBucket } from './rate-limiter.js';
import { bucketKey, takeToken } from './redis-bucket.js';
import { RedisWatch } from './redis-watch.js';

export interface RedisTokenBucketOptions {
  redis: Redis;
  /** Bucket name shared by every instance, e.g. 'payments:acct_main' (never a secret: it becomes a Redis key). */
  name: string;
  ratePerSecond: number;
  burst?: number;
  /** Callers of THIS instance allowed to wait; one more fails fast. Default 100. */
  maxQueue?: number;
  /**
   * When Redis cannot be reached: 'allow' (default; the provider's own 429s still reach the pipeline), 'deny',
   * or 'local': this instance's own in-memory bucket of the same rate until Redis answers again (the limit then
   * holds per instance, as without REDIS_URL).
   */
  onRedisError?: 'allow' | 'deny' | 'local';
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
  private readonly local: TokenBucket | undefined;

  constructor(private readonly options: RedisTokenBucketOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError('RedisTokenBucket: ratePerSecond must be > 0');
    this.watch = RedisWatch.of(options.redis, options.logger);
    this.burst = options.burst ?? Math.max(1, options.ratePerSecond);
    this.key = bucketKey(options.name);
    if (options.onRedisError === 'local') {
      this.local = new TokenBucket({
        ratePerSecond: options.ratePerSecond,
        burst: this.burst,
        maxQueue: options.maxQueue ?? 100,
        name: options.name,
      });
    }
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
        if (wait === 'local') return await (this.local as TokenBucket).acquire(signal);
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

  /** 0 when a token was taken, else the ms to wait; 'local' when Redis failed and the local bucket decides. */
  private async take(): Promise<number | 'local'> {
    try {
      return (await takeToken(this.options.redis, this.key, this.options.ratePerSecond, this.burst)).waitMs;
    } catch (err) {
      // Warned once per reason, in words, by the watch (it was one warning per call, saying only "unreachable").
      this.watch.failed(err);
      if (this.options.onRedisError === 'deny') {
        throw errors.dependencyDown('The shared rate limiter is unavailable.', {
          cause: err,
          details: { notSent: true },
        });
      }
      return this.local ? 'local' : 0;
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
