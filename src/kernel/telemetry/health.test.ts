import { afterEach, describe, expect, it, vi } from 'vitest';
import { type CheckResult, HealthRegistry } from './health.js';

describe('readiness report', () => {
  it('shows each target with only its credentials masked', async () => {
    const health = new HealthRegistry();
    health.register({
      name: 'payments',
      required: false,
      target: 'http://127.0.0.1:43210',
      check: () => ({ status: 'up', detail: 'sandbox' }),
    });
    health.register({
      name: 'rabbitmq',
      required: false,
      target: 'amqp://guest:guest@127.0.0.1:5672/care',
      check: () => ({ status: 'down', detail: 'cannot reach amqp://guest:guest@127.0.0.1:5672/care' }),
    });
    const report = await health.report();
    expect(report.checks.payments).toMatchObject({ target: 'http://127.0.0.1:43210' });
    expect(report.checks.rabbitmq).toMatchObject({
      target: 'amqp://***@127.0.0.1:5672/care',
      detail: 'cannot reach amqp://***@127.0.0.1:5672/care',
    });
  });
});

describe('settled report (carebridge doctor)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits for a dependency that is still connecting to answer, then reports its answer', async () => {
    vi.useFakeTimers();
    const health = new HealthRegistry();
    let polls = 0;
    health.register({
      name: 'rabbitmq',
      required: false,
      target: 'amqp://127.0.0.1:5672',
      check: () =>
        ++polls < 4
          ? { status: 'down', detail: 'connecting', pending: true }
          : { status: 'up', detail: 'connected', latencyMs: 12 },
    });
    const settled = health.settledReport({ timeoutMs: 10_000, intervalMs: 100 });
    await vi.advanceTimersByTimeAsync(1_000);
    const report = await settled;
    expect(report.status).toBe('up');
    expect(report.checks.rabbitmq).toEqual({
      status: 'up',
      target: 'amqp://127.0.0.1:5672',
      detail: 'connected',
      required: false,
      latencyMs: 12,
    });
  });

  it('reports a dependency with no answer within the bound as down, saying so', async () => {
    vi.useFakeTimers();
    const health = new HealthRegistry();
    health.register({
      name: 'broker',
      required: true,
      target: 'amqp://10.255.255.1:5672',
      check: () => ({ status: 'down', detail: 'connecting', pending: true }),
    });
    health.register({
      name: 'store',
      required: true,
      target: 'pglite:memory',
      check: () => ({ status: 'up' }),
    });
    const settled = health.settledReport({ timeoutMs: 10_000 });
    await vi.advanceTimersByTimeAsync(10_100);
    const report = await settled;
    expect(report.status).toBe('down');
    expect(report.checks.broker).toMatchObject({
      status: 'down',
      detail: 'no answer within 10 s (connecting)',
    });
    expect(report.checks.broker?.pending).toBeUndefined();
    expect(report.checks.store?.status).toBe('up');
  });

  it("measures each check's round trip as its latency", async () => {
    const health = new HealthRegistry();
    health.register({
      name: 'slow',
      required: false,
      target: 'http://127.0.0.1:1',
      check: () => new Promise((resolve) => setTimeout(() => resolve({ status: 'up' }), 30)),
    });
    const report = await health.report();
    expect(report.checks.slow?.latencyMs).toBeGreaterThanOrEqual(25);
  });
});

describe('readiness refreshed in the background', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function counting(status: () => CheckResult['status']) {
    const calls = { n: 0 };
    return {
      calls,
      check: {
        name: 'store',
        required: true,
        target: 'pglite:memory',
        check: () => {
          calls.n++;
          return { status: status() };
        },
      },
    };
  }

  it('answers any number of calls from the last round: checks run once per interval, not once per call', async () => {
    vi.useFakeTimers();
    const health = new HealthRegistry();
    let status: CheckResult['status'] = 'up';
    const { calls, check } = counting(() => status);
    health.register(check);
    health.startRefreshing({ intervalMs: 1_000 });
    expect((await health.current()).status).toBe('up');
    for (let i = 0; i < 1_000; i++) await health.current();
    expect(calls.n).toBe(1);

    status = 'down';
    expect((await health.current()).status).toBe('up'); // until the next round
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await health.current()).status).toBe('down');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(calls.n).toBe(4);
    health.stopRefreshing();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls.n).toBe(4);
  });

  it('lists a check registered after the last round at once, in a round of its own', async () => {
    vi.useFakeTimers();
    const health = new HealthRegistry();
    health.register(counting(() => 'up').check);
    health.startRefreshing({ intervalMs: 60_000 });
    await health.current();
    health.register({
      name: 'broker',
      required: false,
      target: 'amqp://x',
      check: () => ({ status: 'down' }),
    });
    const report = await health.current();
    expect(report.checks.broker?.status).toBe('down');
    expect(report.status).toBe('degraded');
    health.unregister('broker');
    expect((await health.current()).checks.broker).toBeUndefined();
    health.stopRefreshing();
  });

  it('without the background refresh, concurrent callers share one round', async () => {
    const health = new HealthRegistry();
    const { calls, check } = counting(() => 'up');
    health.register(check);
    const reports = await Promise.all(Array.from({ length: 50 }, () => health.current()));
    expect(new Set(reports).size).toBe(1);
    expect(calls.n).toBe(1);
  });
});
