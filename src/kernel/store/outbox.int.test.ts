import { afterAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../../../test/support/logs.js';
import { dropTestSchemas, postgresStores, storeFactories, withStore } from '../../../test/support/stores.js';
import { HealthRegistry, Metrics } from '../telemetry/index.js';
import { createLogger } from '../telemetry/logger.js';
import { enqueue, type OutboxRecord, type OutboxTransport, outboxBacklog, requeueDead } from './outbox.js';
import { OutboxDestinations } from './outbox-destinations.js';
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js';
import type { Store } from './store.js';

afterAll(dropTestSchemas);

const logger = createLogger({ level: 'silent' });

/** Records what it published; `failIds`/`failAll` make chosen rows fail. */
class RecordingTransport implements OutboxTransport {
  readonly seen: OutboxRecord[] = [];
  failAll = false;
  failIds = new Set<string>();
  async publish(records: OutboxRecord[]) {
    return records.map((r) => {
      if (this.failAll || this.failIds.has(r.id))
        return { id: r.id, ok: false as const, error: new Error('broker said no') };
      this.seen.push(r);
      return { id: r.id, ok: true as const };
    });
  }
}

function relay(store: Store, transport: OutboxTransport, extra: Partial<OutboxRelayOptions> = {}) {
  return new OutboxRelay({
    store,
    transports: [{ prefix: 'test:', transport }],
    logger,
    metrics: new Metrics({ defaultMetrics: false }),
    ...extra,
  });
}

/** Makes every pending row due now (stands in for waiting out the backoff). */
const makeDue = (s: Store) => s.query("UPDATE outbox SET next_attempt_at = now() WHERE status = 'pending'");

describe.each(storeFactories)('outbox on $name', (factory) => {
  it('publishes a message only once the business transaction commits', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      await expect(
        store.transaction(async (tx) => {
          await enqueue(tx, { destination: 'test:q', payload: { n: 1 } });
          throw new Error('business write failed');
        }),
      ).rejects.toThrow('business write failed');
      const [id] = await store.transaction((tx) =>
        enqueue(tx, { destination: 'test:q', payload: { n: 2 }, headers: { h: 'v' } }),
      );
      expect(await relay(store, t).runOnce()).toBe(1);
      expect(t.seen.map((r) => [r.id, r.payload, r.headers, r.attempts])).toEqual([
        [id, { n: 2 }, { h: 'v' }, 1],
      ]);
      expect(await relay(store, t).runOnce()).toBe(0);
    });
  });

  it('keeps per-key order while the head of a key fails and is retried', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      const ids = await enqueue(store, [
        { destination: 'test:q', key: 'A', payload: 1 },
        { destination: 'test:q', key: 'B', payload: 2 },
        { destination: 'test:q', key: 'A', payload: 3 },
        { destination: 'test:q', key: 'A', payload: 4 },
      ]);
      t.failIds.add(ids[0] as string);
      const r = relay(store, t);
      await r.runOnce();
      // A's head failed and is backing off; A's later rows wait behind it, B goes ahead.
      expect(t.seen.map((x) => x.payload)).toEqual([2]);
      expect(await r.runOnce()).toBe(0);
      t.failIds.clear();
      for (let i = 0; i < 5; i++) {
        await makeDue(store);
        await r.runOnce();
      }
      expect(t.seen.map((x) => x.payload)).toEqual([2, 1, 3, 4]);
    });
  });

  it('dead-letters a row after maxAttempts and lets the rest of its key proceed', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      const [poison] = await enqueue(store, [
        { destination: 'test:q', key: 'K', payload: 'poison' },
        { destination: 'test:q', key: 'K', payload: 'next' },
      ]);
      t.failIds.add(poison as string);
      const r = relay(store, t, { maxAttempts: 3 });
      for (let i = 0; i < 4; i++) {
        await r.runOnce();
        await makeDue(store);
      }
      const { rows } = await store.query<{ status: string; attempts: number; last_error: string }>(
        'SELECT status, attempts, last_error FROM outbox WHERE id = $1',
        [poison],
      );
      expect(rows[0]).toEqual({ status: 'dead', attempts: 3, last_error: 'broker said no' });
      expect(t.seen.map((x) => x.payload)).toEqual(['next']);
      expect((await outboxBacklog(store)).dead).toBe(1);
      t.failIds.clear();
      expect(await requeueDead(store)).toBe(1);
      await r.runOnce();
      expect(t.seen.map((x) => x.payload)).toEqual(['next', 'poison']);
    });
  });

  it('backs off after a transport outage and publishes everything once it recovers', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      await enqueue(
        store,
        [1, 2, 3].map((n) => ({ destination: 'test:q', payload: n })),
      );
      const metrics = new Metrics({ defaultMetrics: false });
      const r = relay(store, t, { metrics });
      t.failAll = true;
      expect(await r.runOnce()).toBe(0);
      // Backing off: nothing is due again straight away.
      expect(await r.runOnce()).toBe(0);
      const { rows } = await store.query<{ later: boolean }>(
        'SELECT bool_and(next_attempt_at > now()) AS later FROM outbox',
      );
      expect(rows[0]?.later).toBe(true);
      t.failAll = false;
      await makeDue(store);
      expect(await r.runOnce()).toBe(3);
      expect(t.seen.map((x) => [x.payload, x.attempts])).toEqual([
        [1, 2],
        [2, 2],
        [3, 2],
      ]);
      const text = await metrics.text();
      expect(text).toContain('carebridge_outbox_messages_total{destination="test:q",outcome="failed"} 3');
      expect(text).toContain('carebridge_outbox_messages_total{destination="test:q",outcome="published"} 3');
    });
  });

  it('treats a throwing transport as a failed batch', async () => {
    await withStore(factory, async (store) => {
      await enqueue(store, { destination: 'test:q', payload: 1 });
      const r = relay(store, { publish: async () => Promise.reject(new Error('connection lost')) });
      expect(await r.runOnce()).toBe(0);
      const { rows } = await store.query<{ status: string; last_error: string }>(
        'SELECT status, last_error FROM outbox',
      );
      expect(rows).toEqual([{ status: 'pending', last_error: 'connection lost' }]);
    });
  });

  it('leaves rows for a destination without a transport pending', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      await enqueue(store, [
        { destination: 'kafka:topic', payload: 'later' },
        { destination: 'test:q', payload: 'now' },
      ]);
      expect(await relay(store, t).runOnce()).toBe(1);
      expect(t.seen.map((x) => x.payload)).toEqual(['now']);
      expect((await outboxBacklog(store)).pending).toBe(1);
    });
  });

  it('spends no attempts while its transport says it is not ready', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      let up = false;
      const gated: OutboxTransport = { publish: (r) => t.publish(r), ready: () => up };
      await enqueue(store, { destination: 'test:q', payload: 'held' });
      const r = relay(store, gated, { maxAttempts: 1 });
      expect(await r.runOnce()).toBe(0);
      expect(await r.runOnce()).toBe(0);
      const { rows } = await store.query<{ attempts: number; status: string }>(
        'SELECT attempts, status FROM outbox',
      );
      expect(rows).toEqual([{ attempts: 0, status: 'pending' }]);
      up = true;
      expect(await r.runOnce()).toBe(1);
      expect(t.seen.map((x) => x.payload)).toEqual(['held']);
    });
  });

  it('reports the backlog in readiness, degraded once the oldest row is too old', async () => {
    await withStore(factory, async (store) => {
      const health = new HealthRegistry();
      relay(store, new RecordingTransport(), { health, maxAgeSeconds: 60 });
      await enqueue(store, { destination: 'test:q', payload: 1 });
      expect((await health.report()).checks.outbox?.status).toBe('up');
      await store.query("UPDATE outbox SET created_at = now() - interval '2 minutes'");
      const check = (await health.report()).checks.outbox;
      expect(check?.status).toBe('degraded');
      expect(check?.detail).toMatch(/^1 pending, oldest 1[12]\d s, 0 dead$/);
    });
  });

  it('runs as a loop that a wake() call drives without waiting for the poll', async () => {
    await withStore(factory, async (store) => {
      const t = new RecordingTransport();
      const r = relay(store, t, { pollIntervalMs: 60_000 });
      r.start();
      await new Promise((res) => setTimeout(res, 50));
      await enqueue(store, { destination: 'test:q', payload: 'woken' });
      r.wake();
      await expect.poll(() => t.seen.length, { timeout: 5_000 }).toBe(1);
      await r.stop();
    });
  });
});

describe.each(storeFactories)('outbox destinations on $name', (factory) => {
  /** The destinations of a runtime whose only transport is `test:`, with its warnings captured. */
  function testOnly() {
    const log = captureLogs('warn');
    const metrics = new Metrics({ defaultMetrics: false });
    const outbox = new OutboxDestinations({ logger: log.logger, metrics });
    outbox.register('test:');
    return { outbox, metrics, warnings: log.lines };
  }
  const pending = async (s: Store) =>
    (await s.query<{ destination: string }>('SELECT destination FROM outbox ORDER BY seq')).rows;

  it('refuses a row for a destination no transport delivers, naming it, and the transaction writes nothing', async () => {
    const { outbox } = testOnly();
    await withStore(
      factory,
      async (store) => {
        await expect(
          store.transaction(async (tx) => {
            await enqueue(tx, { destination: 'test:q', payload: 1 });
            await enqueue(tx, { destination: 'kafka:business_metrics', payload: 2 });
          }),
        ).rejects.toMatchObject({
          code: 'OUTBOX_DESTINATION_UNKNOWN',
          httpStatus: 500,
          details: { destination: 'kafka:business_metrics' },
          message: expect.stringContaining('No outbox transport delivers "kafka:business_metrics"'),
        });
        await expect(enqueue(store, { destination: 'kafka:x', payload: 3 })).rejects.toMatchObject({
          code: 'OUTBOX_DESTINATION_UNKNOWN',
        });
        expect(await pending(store)).toEqual([]);
        await store.transaction((tx) => enqueue(tx, { destination: 'test:q', payload: 4 }));
        expect(await pending(store)).toEqual([{ destination: 'test:q' }]);
      },
      { outbox },
    );
  });

  it('leaves an optional message out when nothing delivers it, counts it and says so once', async () => {
    const { outbox, metrics, warnings } = testOnly();
    await withStore(
      factory,
      async (store) => {
        for (let i = 0; i < 3; i++) {
          const ids = await store.transaction((tx) =>
            enqueue(
              tx,
              [
                { destination: 'kafka:business_metrics', payload: i },
                { destination: 'test:q', payload: i },
              ],
              { optional: true },
            ),
          );
          expect(ids).toHaveLength(1);
        }
        expect((await pending(store)).map((r) => r.destination)).toEqual(['test:q', 'test:q', 'test:q']);
        expect(await metrics.text()).toContain(
          'carebridge_outbox_dropped_messages_total{destination="kafka:business_metrics"} 3',
        );
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ destination: 'kafka:business_metrics', transports: ['test:'] });
      },
      { outbox },
    );
  });
});

describe('outbox on postgres with two relays', () => {
  it('publishes each of 10,000 rows exactly once and in per-key order', async () => {
    await withStore(postgresStores, async (store) => {
      const N = 10_000;
      for (let i = 0; i < N; i += 1_000) {
        await enqueue(
          store,
          Array.from({ length: 1_000 }, (_, j) => ({
            destination: 'test:q',
            key: `k${(i + j) % 50}`,
            payload: i + j,
          })),
        );
      }
      const seen: Array<{ id: string; key: string | null; n: number }> = [];
      const t: OutboxTransport = {
        async publish(records) {
          for (const r of records) seen.push({ id: r.id, key: r.key, n: r.payload as number });
          return records.map((r) => ({ id: r.id, ok: true as const }));
        },
      };
      const a = relay(store, t, { batchSize: 200, relayId: 'a' });
      const b = relay(store, t, { batchSize: 200, relayId: 'b' });
      const drain = async (r: OutboxRelay) => {
        let idle = 0;
        while (idle < 3) idle = (await r.runOnce()) === 0 ? idle + 1 : 0;
      };
      await Promise.all([drain(a), drain(b)]);
      expect(seen).toHaveLength(N);
      expect(new Set(seen.map((s) => s.id)).size).toBe(N);
      const perKey = new Map<string, number[]>();
      for (const s of seen) perKey.set(s.key as string, [...(perKey.get(s.key as string) ?? []), s.n]);
      for (const ns of perKey.values()) expect(ns).toEqual([...ns].sort((x, y) => x - y));
      expect((await outboxBacklog(store)).pending).toBe(0);
    });
  });
});
