import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/logs.js';
import { RedisKeyedRateLimiter } from './redis-keyed-rate-limiter.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Two clients: two gateway instances, each with its own connection. */
const a = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const b = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
afterAll(async () => {
  await Promise.all([a.quit(), b.quit()]);
});
const unique = () => `test-${randomBytes(6).toString('hex')}`;

describe('RedisKeyedRateLimiter', () => {
  it('enforces one limit per key across two instances, and keeps other keys apart', async () => {
    const name = unique();
    const one = new RedisKeyedRateLimiter({ redis: a, name, perMinute: 3 });
    const two = new RedisKeyedRateLimiter({ redis: b, name, perMinute: 3 });
    expect(await one.take('usr_1')).toEqual({ ok: true, remaining: 2 });
    expect(await two.take('usr_1')).toEqual({ ok: true, remaining: 1 });
    expect(await one.take('usr_1')).toEqual({ ok: true, remaining: 0 });
    // In memory each instance would still allow 3; together they have spent the caller's 3.
    expect(await two.take('usr_1')).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(await one.take('usr_1')).toMatchObject({ ok: false });
    expect(await two.take('usr_2')).toEqual({ ok: true, remaining: 2 });
  });

  it('gives a token back to every instance, never above the burst', async () => {
    const name = unique();
    const one = new RedisKeyedRateLimiter({ redis: a, name, perMinute: 1 });
    const two = new RedisKeyedRateLimiter({ redis: b, name, perMinute: 1 });
    expect(await one.take('alice')).toMatchObject({ ok: true });
    expect(await two.take('alice')).toMatchObject({ ok: false });
    await one.refund('alice');
    await one.refund('alice');
    expect(await two.take('alice')).toEqual({ ok: true, remaining: 0 });
    expect(await one.take('alice')).toMatchObject({ ok: false });
  });

  it('keeps usernames and IPs out of Redis: keys are hashed', async () => {
    const name = unique();
    await new RedisKeyedRateLimiter({ redis: a, name, perMinute: 5 }).take('alice@example.com');
    const keys = await a.keys(`carebridge:ratelimit:${name}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^carebridge:ratelimit:${name}:[0-9a-f]{32}$`));
  });

  it('falls back to a per-instance limit while Redis is unreachable, saying why once', async () => {
    const log = captureLogs('warn');
    const down = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => 20,
    });
    try {
      const limiter = new RedisKeyedRateLimiter({
        redis: down,
        name: unique(),
        perMinute: 2,
        logger: log.logger,
      });
      await once(down, 'error');
      expect(await limiter.take('usr_1')).toEqual({ ok: true, remaining: 1 });
      expect(await limiter.take('usr_1')).toEqual({ ok: true, remaining: 0 });
      // Neither open (no limit) nor closed (everyone refused): the instance's own bucket.
      expect(await limiter.take('usr_1')).toEqual({ ok: false, retryAfterSeconds: 30 });
      expect(await limiter.take('usr_2')).toMatchObject({ ok: true });
      expect(log.warnings()).toHaveLength(1);
      expect(log.warnings()[0]?.msg).toMatch(/^Redis unavailable: connection refused by [^ ]+:1 /);
    } finally {
      down.disconnect();
    }
  });
});
