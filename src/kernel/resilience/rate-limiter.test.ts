import { describe, expect, it, vi } from 'vitest';
import { useFakeTimers } from '../../../test/support/fake-timers.js';
import { TokenBucket } from './rate-limiter.js';

useFakeTimers();

describe('TokenBucket', () => {
  it('allows a burst, then one permit per interval in arrival order', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 2, burst: 2, maxQueue: 10 });
    await bucket.acquire();
    await bucket.acquire();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => bucket.acquire().then(() => order.push(n)));
    await vi.advanceTimersByTimeAsync(499);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(order).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('fails fast with RATE_LIMIT_QUEUE_FULL and a Retry-After once the queue is full', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, maxQueue: 2, name: 'acme' });
    await bucket.acquire();
    const queued = [bucket.acquire(), bucket.acquire()];
    await expect(bucket.acquire()).rejects.toMatchObject({
      code: 'RATE_LIMIT_QUEUE_FULL',
      retryAfterSeconds: 3,
    });
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(queued);
  });

  it('drops a waiter whose signal aborts, without losing a permit', async () => {
    const bucket = new TokenBucket({ ratePerSecond: 1, burst: 1, maxQueue: 5 });
    await bucket.acquire();
    const ctrl = new AbortController();
    const gone = bucket.acquire(ctrl.signal);
    const next = bucket.acquire();
    ctrl.abort();
    await expect(gone).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(bucket.waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await next;
    expect(bucket.waiting).toBe(0);
  });
});
