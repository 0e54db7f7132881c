import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../telemetry/index.js';
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

  it('fails open (or closed, or to a local bucket, when asked) when Redis is unreachable', async () => {
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
      // 'local': the instance's own bucket of the same size decides meanwhile (what RateLimiters.bucket uses).
      const local = new RedisTokenBucket({
        redis: down,
        name: name(),
        ratePerSecond: 0.001,
        burst: 1,
        maxQueue: 0,
        onRedisError: 'local',
      });
      await local.acquire();
      await expect(local.acquire()).rejects.toMatchObject({ code: 'RATE_LIMIT_QUEUE_FULL' });
    } finally {
      down.disconnect();
    }
  });
});

describe('RedisTokenBucket: why Redis cannot be used, in words, warned once', () => {
  function capture() {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        cb();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    return { logger, warnings: () => lines.filter((l) => l.level === 'warn') };
  }
  /** A client of REDIS_URL with other credentials or another port, retrying fast. */
  function client(change: (u: URL) => void) {
    const u = new URL(REDIS_URL);
    change(u);
    return new Redis(u.toString(), { maxRetriesPerRequest: 0, retryStrategy: () => 20 });
  }

  it('says the login was refused, once however many calls fail, and readiness says the same', async () => {
    const log = capture();
    const r = client((u) => {
      u.username = 'cb_nobody';
      u.password = 'not-the-password';
    });
    try {
      const bucket = new RedisTokenBucket({ redis: r, name: name(), ratePerSecond: 1, logger: log.logger });
      await once(r, 'error');
      for (let i = 0; i < 3; i++) await bucket.acquire(); // fails open
      const reason =
        'login refused: WRONGPASS invalid username-password pair or user is disabled. (check the user and password in REDIS_URL)';
      expect(await bucket.check()).toEqual({ status: 'down', detail: reason });
      expect(log.warnings()).toHaveLength(1);
      expect(log.warnings()[0]).toMatchObject({ msg: `Redis unavailable: ${reason}`, reason });
      expect(JSON.stringify(log.warnings())).not.toContain('not-the-password');
    } finally {
      r.disconnect();
    }
  });

  it('says nothing listens at the address', async () => {
    const log = capture();
    const r = client((u) => {
      u.port = '1';
    });
    try {
      const bucket = new RedisTokenBucket({ redis: r, name: name(), ratePerSecond: 1, logger: log.logger });
      await once(r, 'error');
      await bucket.acquire();
      const health = await bucket.check();
      expect(health.detail).toMatch(
        /^connection refused by [^ ]+:1 \(nothing listens there\) \(check REDIS_URL\)$/,
      );
      expect(log.warnings()).toHaveLength(1);
    } finally {
      r.disconnect();
    }
  });

  it('is up when Redis answers', async () => {
    const bucket = new RedisTokenBucket({ redis, name: name(), ratePerSecond: 1 });
    expect(await bucket.check()).toEqual({ status: 'up', detail: 'PONG' });
  });
});
