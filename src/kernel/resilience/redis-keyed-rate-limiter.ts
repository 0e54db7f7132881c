import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../telemetry/index.js';
import { type KeyedLimiter, KeyedRateLimiter, type Take } from './keyed-rate-limiter.js';
import { bucketKey, giveTokenBack, takeToken } from './redis-bucket.js';
import { RedisWatch } from './redis-watch.js';

export interface RedisKeyedRateLimiterOptions {
  redis: Redis;
  /** Names the limit in Redis keys (`principal`, `sign-in:ip`); the same name on every instance shares it. */
  name: string;
  perMinute: number;
  /** Burst size; default `perMinute`. */
  burst?: number;
  /** Keys the in-memory fallback tracks at once. Default 100 000. */
  maxKeys?: number;
  logger?: Logger;
}

/**
 * A token bucket per key shared by every gateway instance: one Redis hash per key, updated by one Lua script
 * (redis-bucket.ts), so N instances together allow `perMinute`, not N × `perMinute`. Keys are hashed before
 * they reach Redis: a username or an IP is never stored there.
 *
 * Redis down or slow (the client's command timeout): each instance falls back to its own in-memory bucket of
 * the same size until Redis answers again — the limit then holds per instance, as without REDIS_URL. Neither
 * open (sign-in would lose its brake against credential stuffing) nor closed (a cache outage would refuse all
 * traffic). Why Redis is unusable is warned once per reason (RedisWatch) and shown by the `redis` readiness check.
 */
export class RedisKeyedRateLimiter implements KeyedLimiter {
  private readonly ratePerSecond: number;
  private readonly burst: number;
  private readonly watch: RedisWatch;
  private readonly local: KeyedRateLimiter;

  constructor(private readonly options: RedisKeyedRateLimiterOptions) {
    if (!(options.perMinute > 0)) throw new RangeError('RedisKeyedRateLimiter: perMinute must be > 0');
    this.ratePerSecond = options.perMinute / 60;
    this.burst = options.burst ?? options.perMinute;
    this.watch = RedisWatch.of(options.redis, options.logger);
    this.local = new KeyedRateLimiter({
      perMinute: options.perMinute,
      burst: this.burst,
      ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}),
    });
  }

  async take(key: string): Promise<Take> {
    try {
      const { waitMs, remaining } = await takeToken(
        this.options.redis,
        this.redisKey(key),
        this.ratePerSecond,
        this.burst,
      );
      return waitMs === 0
        ? { ok: true, remaining }
        : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    } catch (err) {
      this.watch.failed(err);
      return this.local.take(key);
    }
  }

  async refund(key: string): Promise<void> {
    try {
      await giveTokenBack(this.options.redis, this.redisKey(key), this.burst);
    } catch (err) {
      this.watch.failed(err);
      await this.local.refund(key);
    }
  }

  private redisKey(key: string): string {
    const digest = createHash('sha256').update(key).digest('hex').slice(0, 32);
    return bucketKey(`${this.options.name}:${digest}`);
  }
}
