import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { errors } from '../errors/index.js';
import { TokenBucket } from './rate-limiter.js';
import { parseRetryAfter } from './retry-after.js';
import { RetryBudget } from './retry-budget.js';
import { decideRetry } from './retry-decision.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP-dates, and ignores what is neither', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-1', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('RetryBudget', () => {
  it('allows the floor when traffic is low and a share of requests when it is high', () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0.5, windowMs: 10_000 }); // floor: 5 per window
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.recordRequest(); // 10% of 100 = 10
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('refills as the window slides', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.2, windowMs: 5_000 }); // 1 per window
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    vi.advanceTimersByTime(4_000);
    expect(budget.tryWithdraw()).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(budget.tryWithdraw()).toBe(true);
  });
});

describe('decideRetry', () => {
  const options = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1_000 };
  it('grows the backoff exponentially with half jitter, capped', () => {
    const at = (attempt: number, r: number) =>
      decideRetry(errors.upstreamError('x'), {
        attempt,
        options,
        idempotent: true,
        remainingMs: 60_000,
        random: () => r,
      });
    expect(at(1, 0.999)).toMatchObject({ retry: true, delayMs: 100 });
    expect(at(2, 0)).toMatchObject({ retry: true, delayMs: 100 });
    expect(at(2, 0.999)).toMatchObject({ retry: true, delayMs: 200 });
    expect(at(3, 0.999)).toMatchObject({ retry: true, delayMs: 400 });
    expect(at(4, 0.5)).toMatchObject({ retry: false, reason: 'max attempts reached' });
  });

  it('does not retry into our own refusals', () => {
    const e = errors.circuitOpen('open');
    expect(decideRetry(e, { attempt: 1, options, idempotent: true, remainingMs: 60_000 })).toMatchObject({
      retry: false,
    });
  });
});

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
