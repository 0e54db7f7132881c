import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter } from './keyed-rate-limiter.js';
import { TokenBucket } from './rate-limiter.js';
import { createRateLimiters } from './rate-limiters.js';
import { RedisKeyedRateLimiter } from './redis-keyed-rate-limiter.js';
import { RedisTokenBucket } from './redis-rate-limiter.js';

describe('createRateLimiters', () => {
  it('limits in memory, per instance, without a Redis client (no REDIS_URL)', async () => {
    const limiters = createRateLimiters();
    expect(limiters.shared).toBe('memory');
    const principal = limiters.keyed('principal', { perMinute: 2 });
    expect(principal).toBeInstanceOf(KeyedRateLimiter);
    expect(limiters.bucket('payments:pk_test', { ratePerSecond: 5 })).toBeInstanceOf(TokenBucket);
    expect(await principal.take('usr_1')).toEqual({ ok: true, remaining: 1 });
    expect(await principal.take('usr_1')).toEqual({ ok: true, remaining: 0 });
    expect(await principal.take('usr_1')).toEqual({ ok: false, retryAfterSeconds: 30 });
  });

  it('shares every limit through Redis when given a client', () => {
    // Never connects: lazy, and nothing is taken.
    const redis = new Redis({ lazyConnect: true });
    const limiters = createRateLimiters({ redis });
    expect(limiters.shared).toBe('redis');
    expect(limiters.keyed('principal', { perMinute: 2 })).toBeInstanceOf(RedisKeyedRateLimiter);
    expect(limiters.bucket('payments:pk_test', { ratePerSecond: 5 })).toBeInstanceOf(RedisTokenBucket);
    redis.disconnect();
  });
});
