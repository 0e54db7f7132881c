import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisTokenBucket } from './redis-rate-limiter.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
afterAll(async () => {
  await redis.quit();
});
const name = () => `test:${randomBytes(6).toString('hex')}`;

describe('RedisTokenBucket', () => {
  it('shares one budget between two instances', async () => {
    const shared = name();
    const a = new RedisTokenBucket({ redis, name: shared, ratePerSecond: 0.001, burst: 3, maxQueue: 0 });
    const b = new RedisTokenBucket({ redis, name: shared, ratePerSecond: 0.001, burst: 3, maxQueue: 0 });
    await a.acquire();
    await b.acquire();
    await a.acquire();
    await expect(b.acquire()).rejects.toMatchObject({ code: 'RATE_LIMIT_QUEUE_FULL' });
    await expect(a.acquire()).rejects.toMatchObject({ code: 'RATE_LIMIT_QUEUE_FULL' });
  });

  it('lets a queued caller through once a token refills', async () => {
    const bucket = new RedisTokenBucket({ redis, name: name(), ratePerSecond: 20, burst: 1, maxQueue: 5 });
    await bucket.acquire();
    let through = false;
    const waiting = bucket.acquire().then(() => {
      through = true;
    });
    expect(through).toBe(false);
    await waiting;
    expect(through).toBe(true);
  });

  it('gives up waiting when the caller aborts', async () => {
    const bucket = new RedisTokenBucket({ redis, name: name(), ratePerSecond: 0.01, burst: 1, maxQueue: 5 });
    await bucket.acquire();
    const ctrl = new AbortController();
    const waiting = bucket.acquire(ctrl.signal);
    setImmediate(() => ctrl.abort());
    await expect(waiting).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('fails open (or closed when asked) when Redis is unreachable', async () => {
    const down = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    try {
      await new RedisTokenBucket({ redis: down, name: name(), ratePerSecond: 1 }).acquire();
      await expect(
        new RedisTokenBucket({ redis: down, name: name(), ratePerSecond: 1, onRedisError: 'deny' }).acquire(),
      ).rejects.toMatchObject({
        code: 'DEPENDENCY_DOWN',
      });
    } finally {
      down.disconnect();
    }
  });
});
