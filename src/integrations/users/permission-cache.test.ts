import { describe, expect, it } from 'vitest';
import { errors } from '../../kernel/errors/index.js';
import { Metrics } from '../../kernel/telemetry/index.js';
import { PermissionCache } from './permission-cache.js';

const check = { subject: 'usr_1', resource: 'payments', action: 'read' };

function setup(ttlMs = 1_000) {
  let now = 0;
  const cache = new PermissionCache({
    ttlMs,
    max: 100,
    now: () => now,
    metrics: new Metrics({ defaultMetrics: false }),
  });
  return { cache, advance: (ms: number) => (now += ms) };
}

describe('PermissionCache', () => {
  it('reuses a decision until its TTL passes', async () => {
    const { cache, advance } = setup();
    let calls = 0;
    const load = async () => {
      calls++;
      return true;
    };
    await cache.decide(check, load);
    advance(999);
    await cache.decide(check, load);
    expect(calls).toBe(1);
    advance(2);
    await cache.decide(check, load);
    expect(calls).toBe(2);
  });

  it('keys on the consistency token, so a newer token is not served an older decision', async () => {
    const { cache } = setup();
    await cache.decide(check, async () => true);
    expect(await cache.decide({ ...check, consistencyToken: 'rev_9' }, async () => false)).toBe(false);
  });

  it('shares one load between identical concurrent checks', async () => {
    const { cache } = setup();
    let calls = 0;
    let release!: (v: boolean) => void;
    const load = () => {
      calls++;
      return new Promise<boolean>((r) => {
        release = r;
      });
    };
    const all = Promise.all([cache.decide(check, load), cache.decide(check, load)]);
    release(true);
    expect(await all).toEqual([true, true]);
    expect(calls).toBe(1);
  });

  it('never stores a failure: the next check asks again', async () => {
    const { cache } = setup();
    await expect(
      cache.decide(check, async () => Promise.reject(errors.upstreamUnavailable('down'))),
    ).rejects.toThrow('down');
    expect(await cache.decide(check, async () => true)).toBe(true);
  });

  it('asks only for uncached items, in one batch, and keeps per-item errors out of the cache', async () => {
    const { cache } = setup();
    await cache.decide(check, async () => true);
    const batches: number[] = [];
    const other = { ...check, action: 'create' };
    const bad = { ...check, resource: 'x' };
    const res = await cache.decideMany([check, other, bad], async (missing) => {
      batches.push(missing.length);
      return missing.map((m) => (m.resource === 'x' ? errors.badRequest('bad') : false));
    });
    expect(batches).toEqual([2]);
    expect(res[0]).toEqual({ allowed: true });
    expect(res[1]).toEqual({ allowed: false });
    expect(res[2]).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    let asked = 0;
    await cache.decideMany([other, bad], async (missing) => {
      asked = missing.length;
      return missing.map(() => true);
    });
    expect(asked).toBe(1);
  });

  it('throws when the whole batch call fails, caching nothing', async () => {
    const { cache } = setup();
    await expect(
      cache.decideMany([check], async () => Promise.reject(errors.upstreamTimeout('slow'))),
    ).rejects.toThrow('slow');
    expect(cache.size).toBe(0);
  });

  it('turns caching off with a TTL of 0', async () => {
    const { cache } = setup(0);
    let calls = 0;
    const load = async () => {
      calls++;
      return true;
    };
    await cache.decide(check, load);
    await cache.decide(check, load);
    expect(calls).toBe(2);
  });
});
