import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories, withStore } from '../../../test/support/stores.js';
import { hashRequest, IdempotencyStore } from './idempotency.js';

afterAll(dropTestSchemas);

describe('hashRequest', () => {
  it('hashes objects alike whatever their key order, and different bodies differently', () => {
    expect(hashRequest({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(hashRequest({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(hashRequest({ a: 1 })).not.toBe(hashRequest({ a: 2 }));
    expect(hashRequest({ a: [1, 2] })).not.toBe(hashRequest({ a: [2, 1] }));
  });
});

describe.each(storeFactories)('idempotency keys on $name', (factory) => {
  it('starts once, reports in-flight, then replays the stored answer', async () => {
    await withStore(factory, async (store) => {
      const keys = new IdempotencyStore(store);
      expect(await keys.begin('pay', 'k1', 'h1')).toEqual({ kind: 'started' });
      expect(await keys.begin('pay', 'k1', 'h1')).toEqual({ kind: 'in_flight' });
      await keys.complete('pay', 'k1', {
        status: 201,
        body: { id: 'pay_1' },
        headers: { location: '/v1/payments/pay_1' },
      });
      expect(await keys.begin('pay', 'k1', 'h1')).toEqual({
        kind: 'replay',
        response: { status: 201, body: { id: 'pay_1' }, headers: { location: '/v1/payments/pay_1' } },
      });
      // Scopes are independent.
      expect(await keys.begin('refund', 'k1', 'h1')).toEqual({ kind: 'started' });
    });
  });

  it('refuses the same key with a different request, in flight or completed', async () => {
    await withStore(factory, async (store) => {
      const keys = new IdempotencyStore(store);
      await keys.begin('pay', 'k', 'h1');
      expect(await keys.begin('pay', 'k', 'h2')).toEqual({ kind: 'conflict' });
      await keys.complete('pay', 'k', { status: 201, body: {} });
      expect(await keys.begin('pay', 'k', 'h2')).toEqual({ kind: 'conflict' });
    });
  });

  it('lets the same request take over a claim whose lock expired (a crashed request)', async () => {
    await withStore(factory, async (store) => {
      let now = new Date('2026-01-01T00:00:00Z');
      const keys = new IdempotencyStore(store, { lockSeconds: 30, now: () => now });
      await keys.begin('pay', 'k', 'h');
      now = new Date('2026-01-01T00:00:29Z');
      expect(await keys.begin('pay', 'k', 'h')).toEqual({ kind: 'in_flight' });
      now = new Date('2026-01-01T00:00:31Z');
      expect(await keys.begin('pay', 'k', 'h2')).toEqual({ kind: 'conflict' });
      expect(await keys.begin('pay', 'k', 'h')).toEqual({ kind: 'started' });
    });
  });

  it('keeps answers at least 24 h, then forgets them', async () => {
    await withStore(factory, async (store) => {
      let now = new Date('2026-01-01T00:00:00Z');
      const keys = new IdempotencyStore(store, { now: () => now });
      await keys.begin('pay', 'k', 'h');
      await keys.complete('pay', 'k', { status: 201, body: { n: 1 } });
      now = new Date('2026-01-01T23:59:00Z');
      expect((await keys.begin('pay', 'k', 'h')).kind).toBe('replay');
      expect(await keys.purgeExpired()).toBe(0);
      now = new Date('2026-01-02T00:00:01Z');
      expect(await keys.purgeExpired()).toBe(1);
      expect(await keys.begin('pay', 'k', 'other')).toEqual({ kind: 'started' });
      expect(() => new IdempotencyStore(store, { ttlSeconds: 3600 })).toThrow(RangeError);
    });
  });

  it('frees a released claim and stores an answer inside the business transaction', async () => {
    await withStore(factory, async (store) => {
      const keys = new IdempotencyStore(store);
      await keys.begin('pay', 'k', 'h');
      await keys.release('pay', 'k');
      expect(await keys.begin('pay', 'k', 'h2')).toEqual({ kind: 'started' });
      await expect(
        store.transaction(async (tx) => {
          await keys.complete('pay', 'k', { status: 201, body: {} }, tx);
          throw new Error('rollback');
        }),
      ).rejects.toThrow('rollback');
      expect(await keys.begin('pay', 'k', 'h2')).toEqual({ kind: 'in_flight' });
    });
  });
});
