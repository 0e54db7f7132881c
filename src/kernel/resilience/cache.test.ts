import { describe, expect, it } from 'vitest';
import { errors } from '../errors/index.js';
import { Metrics } from '../telemetry/index.js';
import { ResponseCache, type ResponseCacheOptions } from './cache.js';

function make(extra: Partial<ResponseCacheOptions> = {}) {
  const clock = { now: 1_000_000 };
  const metrics = new Metrics({ defaultMetrics: false });
  const cache = new ResponseCache<{ n: number }>({
    name: 'test',
    max: 3,
    ttlMs: 1_000,
    metrics,
    now: () => clock.now,
    ...extra,
  });
  return { cache, clock, metrics };
}

describe('ResponseCache', () => {
  it('serves a fresh entry without calling upstream, and reloads after the TTL', async () => {
    const { cache, clock } = make();
    let calls = 0;
    const load = async () => ({ n: ++calls });
    expect((await cache.get({ member: 'M1' }, load)).value).toEqual({ n: 1 });
    clock.now += 999;
    expect(await cache.get({ member: 'M1' }, load)).toEqual({ value: { n: 1 }, stale: false, ageMs: 999 });
    clock.now += 1;
    expect((await cache.get({ member: 'M1' }, load)).value).toEqual({ n: 2 });
  });

  it('shares one upstream call among concurrent identical requests', async () => {
    const { cache, metrics } = make();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const load = async () => {
      calls++;
      await gate;
      return { n: calls };
    };
    const all = Promise.all([1, 2, 3, 4].map(() => cache.get({ q: 'rates', zip: '10001' }, load)));
    release();
    expect((await all).map((r) => r.value.n)).toEqual([1, 1, 1, 1]);
    expect(calls).toBe(1);
    expect(await metrics.text()).toContain(
      'carebridge_resilience_cache_requests_total{cache="test",outcome="coalesced"} 3',
    );
  });

  it('evicts the least recently used entry beyond max', async () => {
    const { cache } = make();
    let calls = 0;
    const load = async () => ({ n: ++calls });
    for (const k of ['a', 'b', 'c']) await cache.get(k, load);
    await cache.get('a', load); // a is now most recent
    await cache.get('d', load); // evicts b
    expect(cache.size).toBe(3);
    const before = calls;
    await cache.get('a', load);
    expect(calls).toBe(before);
    await cache.get('b', load);
    expect(calls).toBe(before + 1);
  });

  it('serves a stale entry marked stale when the upstream fails within the stale window', async () => {
    const { cache, clock } = make({ staleIfErrorMs: 5_000 });
    await cache.get('k', async () => ({ n: 1 }));
    clock.now += 3_000;
    const failing = async (): Promise<{ n: number }> => {
      throw errors.upstreamUnavailable('down');
    };
    expect(await cache.get('k', failing)).toEqual({ value: { n: 1 }, stale: true, ageMs: 3_000 });
    clock.now += 3_000;
    await expect(cache.get('k', failing)).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('keys by a sha256 of the request, never the request itself', () => {
    const key = ResponseCache.key({ memberId: 'W123456789', lastName: 'Doe' });
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(key).toBe(ResponseCache.key({ lastName: 'Doe', memberId: 'W123456789' }));
  });

  it('rejects an unbounded configuration', () => {
    expect(() => make({ max: 0 })).toThrow(RangeError);
  });
});
