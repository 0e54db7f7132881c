import type { Redis } from 'ioredis';
import type { Logger } from '../telemetry/index.js';
import { type KeyedLimiter, KeyedRateLimiter } from './keyed-rate-limiter.js';
import { type RateLimiter, TokenBucket } from './rate-limiter.js';
import { RedisKeyedRateLimiter } from './redis-keyed-rate-limiter.js';
import { RedisTokenBucket } from './redis-rate-limiter.js';

/**
 * Where every limit that must hold across gateway instances is made: the per-caller and sign-in limits of the
 * gateway (`keyed`) and each provider account's outbound limit (`bucket`). With a Redis client (REDIS_URL)
 * every instance shares one bucket per name; without one, each instance limits alone, in memory (the embedded
 * default). Either way a Redis outage falls back to the in-memory limit, never to none.
 */
export interface RateLimiters {
  /** `redis` when the limits are shared by every instance, `memory` when each instance limits alone. */
  readonly shared: 'redis' | 'memory';
  /** Inbound: a bucket per key (caller, IP, username) that answers at once. */
  keyed(name: string, opts: { perMinute: number; burst?: number }): KeyedLimiter;
  /** Outbound: one provider account's bucket, which callers wait for in a bounded queue. */
  bucket(name: string, opts: { ratePerSecond: number; burst?: number; maxQueue?: number }): RateLimiter;
}

export function createRateLimiters(opts: { redis?: Redis | undefined; logger?: Logger } = {}): RateLimiters {
  const { redis, logger } = opts;
  if (!redis) {
    return {
      shared: 'memory',
      keyed: (_name, o) => new KeyedRateLimiter(o),
      bucket: (name, o) => new TokenBucket({ ...o, name }),
    };
  }
  return {
    shared: 'redis',
    keyed: (name, o) => new RedisKeyedRateLimiter({ redis, name, ...o, ...(logger ? { logger } : {}) }),
    bucket: (name, o) =>
      new RedisTokenBucket({ redis, name, ...o, onRedisError: 'local', ...(logger ? { logger } : {}) }),
  };
}
