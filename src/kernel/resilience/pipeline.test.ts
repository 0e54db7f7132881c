import { describe, expect, it, vi } from 'vitest';
import { useFakeTimers } from '../../../test/support/fake-timers.js';
import { CareBridgeError, errors } from '../errors/index.js';
import { HealthRegistry, Metrics } from '../telemetry/index.js';
import { createLogger } from '../telemetry/logger.js';
import { createPipeline, type PipelineOptions } from './pipeline.js';
import { TokenBucket } from './rate-limiter.js';
import { RetryBudget } from './retry-budget.js';
import type { PipelineEvent } from './telemetry.js';

const logger = createLogger({ level: 'silent' });
const unavailable = (extra: Partial<{ retryAfterSeconds: number; notSent: boolean }> = {}) =>
  errors.upstreamUnavailable('down', {
    retryAfterSeconds: extra.retryAfterSeconds,
    details: extra.notSent ? { notSent: true } : undefined,
  });

function make(extra: Partial<PipelineOptions> = {}) {
  const metrics = new Metrics({ defaultMetrics: false });
  const p = createPipeline({
    integration: 'acme',
    operation: 'get',
    metrics,
    logger,
    retry: { maxAttempts: 3, initialDelayMs: 100, maxDelayMs: 1_000 },
    breaker: false,
    ...extra,
  });
  const events: PipelineEvent[] = [];
  p.onEvent((e) => events.push(e));
  return { p, events, metrics };
}

/** A scripted upstream: each call takes the next step (an error to throw, or a value). */
function scripted(steps: Array<Error | string>) {
  const calls: number[] = [];
  const fn = async ({ attempt }: { attempt: number }) => {
    calls.push(attempt);
    const step = steps.shift() ?? 'ok';
    if (step instanceof Error) throw step;
    return step;
  };
  return { fn, calls };
}

useFakeTimers();

describe('retry', () => {
  it('retries retryable failures of an idempotent call with growing backoff, then succeeds', async () => {
    const { p, events } = make();
    const { fn, calls } = scripted([unavailable(), unavailable(), 'done']);
    const out = p.execute(fn, { idempotent: true });
    await vi.runAllTimersAsync();
    await expect(out).resolves.toBe('done');
    expect(calls).toEqual([1, 2, 3]);
    const delays = events.filter((e) => e.type === 'retry').map((e) => (e as { delayMs: number }).delayMs);
    expect(delays).toHaveLength(2);
    expect(delays[0]).toBeGreaterThanOrEqual(100);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
  });

  it('stops after maxAttempts and throws the last error', async () => {
    const { p } = make();
    const { fn, calls } = scripted([unavailable(), unavailable(), unavailable(), 'never']);
    const out = p.execute(fn, { idempotent: true });
    const check = expect(out).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await vi.runAllTimersAsync();
    await check;
    expect(calls).toEqual([1, 2, 3]);
  });

  it('never retries a non-retryable error', async () => {
    const { p } = make();
    const { fn, calls } = scripted([errors.validation('bad'), 'never']);
    await expect(p.execute(fn, { idempotent: true })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(calls).toEqual([1]);
  });

  it('retries a non-idempotent call only when the request was never sent', async () => {
    const { p } = make();
    const sent = scripted([unavailable(), 'never']);
    await expect(p.execute(sent.fn)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(sent.calls).toEqual([1]);
    const notSent = scripted([unavailable({ notSent: true }), 'ok']);
    const out = p.execute(notSent.fn);
    await vi.runAllTimersAsync();
    await expect(out).resolves.toBe('ok');
    expect(notSent.calls).toEqual([1, 2]);
  });

  it('waits exactly as long as Retry-After asks', async () => {
    const { p, events } = make({ totalTimeoutMs: 10_000 });
    const { fn, calls } = scripted([errors.rateLimited('slow down', { retryAfterSeconds: 2 }), 'ok']);
    const out = p.execute(fn, { idempotent: true });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(calls).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    await expect(out).resolves.toBe('ok');
    expect(calls).toEqual([1, 2]);
    expect(events).toContainEqual({
      type: 'retry',
      attempt: 1,
      delayMs: 2_000,
      reason: 'retry-after',
      code: 'RATE_LIMITED',
    });
  });

  it('fails fast when Retry-After is longer than the remaining total budget', async () => {
    const { p, events } = make({ totalTimeoutMs: 5_000 });
    const { fn, calls } = scripted([errors.rateLimited('later', { retryAfterSeconds: 30 }), 'never']);
    await expect(p.execute(fn, { idempotent: true })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      retryAfterSeconds: 30,
    });
    expect(calls).toEqual([1]);
    expect(events).toContainEqual({
      type: 'give_up',
      attempt: 1,
      reason: 'Retry-After exceeds the remaining budget',
      code: 'RATE_LIMITED',
    });
  });

  it('stops retrying when the shared retry budget is spent', async () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.1, windowMs: 10_000 }); // one retry per window
    const { p, events } = make({ budget });
    const first = scripted([unavailable(), 'ok']);
    const a = p.execute(first.fn, { idempotent: true });
    await vi.runAllTimersAsync();
    await expect(a).resolves.toBe('ok');
    const second = scripted([unavailable(), 'ok']);
    await expect(p.execute(second.fn, { idempotent: true })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
    });
    expect(second.calls).toEqual([1]);
    expect(events.at(-1)).toMatchObject({ type: 'give_up', reason: 'retry budget exhausted' });
  });
});

describe('timeouts', () => {
  it('cuts an attempt that hangs with the attempt timeout and retries it', async () => {
    const { p } = make({ attemptTimeoutMs: 1_000, totalTimeoutMs: 10_000 });
    const calls: number[] = [];
    const out = p.execute(
      ({ signal, attempt }) => {
        calls.push(attempt);
        if (attempt === 2) return Promise.resolve('second');
        return new Promise<string>((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      },
      { idempotent: true },
    );
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([1]);
    await vi.runAllTimersAsync();
    await expect(out).resolves.toBe('second');
    expect(calls).toEqual([1, 2]);
  });

  it('gives up at the total timeout even when the function ignores its signal', async () => {
    const { p } = make({ attemptTimeoutMs: 1_000, totalTimeoutMs: 3_000, retry: false });
    const out = p.execute(() => new Promise<string>(() => {}));
    const check = expect(out).rejects.toMatchObject({
      code: 'UPSTREAM_TIMEOUT',
      message: 'acme did not answer within the 3000 ms budget.',
    });
    await vi.advanceTimersByTimeAsync(3_000);
    await check;
  });

  it('shares one timer between the calls in flight and holds none once they are done', async () => {
    const { p } = make({ attemptTimeoutMs: 1_000, totalTimeoutMs: 3_000, retry: false });
    const answers: Array<(v: string) => void> = [];
    const calls = Array.from({ length: 50 }, () =>
      p.execute(() => new Promise<string>((resolve) => answers.push(resolve))),
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(answers).toHaveLength(50);
    expect(vi.getTimerCount()).toBe(1);
    for (const a of answers) a('ok');
    await expect(Promise.all(calls)).resolves.toHaveLength(50);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, fails fast without calling, and closes after a good probe', async () => {
    const health = new HealthRegistry();
    const { p, events, metrics } = make({
      retry: false,
      health,
      breaker: { kind: 'consecutive', threshold: 3, halfOpenAfterMs: 10_000 },
    });
    let upstreamCalls = 0;
    let healthy = false;
    const fn = async () => {
      upstreamCalls++;
      if (!healthy) throw unavailable();
      return 'ok';
    };
    for (let i = 0; i < 3; i++)
      await expect(p.execute(fn)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(p.breakerState).toBe('open');
    await expect(p.execute(fn)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', retryAfterSeconds: 10 });
    expect(upstreamCalls).toBe(3);
    const check = (await health.report()).checks['breaker:acme.get'];
    expect(check?.status).toBe('degraded');
    expect(check?.detail).toMatch(/^open since .*Z; half-open eligible at .*Z \(on the next call\)$/);
    expect(await metrics.text()).toContain(
      'carebridge_resilience_breaker_state{integration="acme",operation="get"} 1',
    );

    await vi.advanceTimersByTimeAsync(10_000);
    healthy = true;
    await expect(p.execute(fn)).resolves.toBe('ok');
    expect(p.breakerState).toBe('closed');
    expect(upstreamCalls).toBe(4);
    expect((await health.report()).checks['breaker:acme.get']?.status).toBe('up');
    expect(events.filter((e) => e.type === 'breaker').map((e) => (e as { state: string }).state)).toEqual([
      'open',
      'half-open',
      'closed',
    ]);
  });

  it('reopens after a failed probe and waits twice as long before the next one', async () => {
    const { p } = make({
      retry: false,
      breaker: { kind: 'consecutive', threshold: 1, halfOpenAfterMs: 1_000 },
    });
    const fail = async () => {
      throw unavailable();
    };
    await expect(p.execute(fail)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(p.execute(fail)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' }); // the probe
    expect(p.breaker?.halfOpenEligibleAt).toBe(Date.now() + 2_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(p.execute(fail)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
  });

  it('opens a sampling breaker on the failure rate, and ignores caller errors', async () => {
    const breaker = {
      kind: 'sampling',
      threshold: 0.5,
      durationMs: 10_000,
      minimumRps: 0.1,
      halfOpenAfterMs: 5_000,
    } as const;
    const callerErrors = make({ retry: false, breaker }).p;
    for (let i = 0; i < 10; i++) {
      await expect(
        callerErrors.execute(async () => Promise.reject(errors.validation('x'))),
      ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(callerErrors.breakerState).toBe('closed');
    const { p } = make({ retry: false, breaker });
    let upstreamCalls = 0;
    for (let i = 0; i < 4; i++) {
      await p.execute(async () => ++upstreamCalls).catch(() => undefined);
      for (let j = 0; j < 3; j++) {
        await p
          .execute(async () => {
            upstreamCalls++;
            throw unavailable();
          })
          .catch(() => undefined);
      }
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(p.breakerState).toBe('open');
    expect(upstreamCalls).toBeLessThan(16);
  });

  it('does not retry into an open breaker', async () => {
    const { p } = make({ breaker: { kind: 'consecutive', threshold: 1, halfOpenAfterMs: 60_000 } });
    const { fn, calls } = scripted([unavailable(), 'never']);
    const out = p.execute(fn, { idempotent: true });
    const check = expect(out).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    await vi.runAllTimersAsync();
    await check;
    expect(calls).toEqual([1]);
  });
});

describe('bulkhead, rate limiter and fallback', () => {
  it('rejects calls beyond the bulkhead with BULKHEAD_FULL', async () => {
    const { p, metrics } = make({ bulkhead: { limit: 1 } });
    let release!: () => void;
    const first = p.execute(() => new Promise<string>((r) => (release = () => r('first'))));
    await expect(p.execute(async () => 'second')).rejects.toMatchObject({ code: 'BULKHEAD_FULL' });
    release();
    await expect(first).resolves.toBe('first');
    expect(await metrics.text()).toContain(
      'carebridge_resilience_rejections_total{integration="acme",operation="get",reason="BULKHEAD_FULL"} 1',
    );
  });

  it('spends a rate-limit permit per attempt and fails fast once the queue is full', async () => {
    const limiter = new TokenBucket({ ratePerSecond: 1, burst: 1, maxQueue: 1 });
    const { p } = make({ rateLimiter: limiter, retry: false });
    await expect(p.execute(async () => 'a')).resolves.toBe('a');
    const queued = p.execute(async () => 'b');
    await expect(p.execute(async () => 'c')).rejects.toMatchObject({
      code: 'RATE_LIMIT_QUEUE_FULL',
      httpStatus: 429,
    });
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(queued).resolves.toBe('b');
  });

  it('hands the final error to the fallback', async () => {
    const seen: string[] = [];
    const { p, events } = make({
      retry: false,
      fallback: (err) => {
        seen.push(err.code);
        return 'cached';
      },
    });
    await expect(p.execute(async () => Promise.reject(unavailable()))).resolves.toBe('cached');
    expect(seen).toEqual(['UPSTREAM_UNAVAILABLE']);
    expect(events).toContainEqual({ type: 'fallback', code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('turns an unknown throwable into INTERNAL', async () => {
    const { p } = make({ retry: false });
    const err = await p.execute(async () => Promise.reject(new TypeError('bug'))).catch((e) => e);
    expect(err).toBeInstanceOf(CareBridgeError);
    expect(err.code).toBe('INTERNAL');
  });

  it('refuses a retry policy without a bounded number of attempts', () => {
    expect(() => make({ retry: { maxAttempts: Number.POSITIVE_INFINITY } })).toThrow(RangeError);
  });
});
