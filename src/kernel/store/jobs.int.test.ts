import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, postgresStores, storeFactories, withStore } from '../../../test/support/stores.js';
import { errors } from '../errors/index.js';
import { HealthRegistry, Metrics } from '../telemetry/index.js';
import { createLogger } from '../telemetry/logger.js';
import { type JobHandler, JobRunner, scheduleJob } from './jobs.js';
import type { Store } from './store.js';

afterAll(dropTestSchemas);

const logger = createLogger({ level: 'silent' });
const runner = (store: Store, handlers: Record<string, JobHandler>, health?: HealthRegistry) =>
  new JobRunner({ store, handlers, logger, metrics: new Metrics({ defaultMetrics: false }), health });
const makeDue = (s: Store) => s.query("UPDATE jobs SET run_at = now() WHERE status = 'pending'");
const job = async (s: Store, id: string) =>
  (
    await s.query<{ status: string; attempts: number; last_error: string | null }>(
      'SELECT status, attempts, last_error FROM jobs WHERE id = $1',
      [id],
    )
  ).rows[0];

describe.each(storeFactories)('jobs on $name', (factory) => {
  it('runs a job only once it is due', async () => {
    await withStore(factory, async (store) => {
      const ran: unknown[] = [];
      const r = runner(store, { poll: async (j) => void ran.push(j.payload) });
      const { id } = await scheduleJob(store, { kind: 'poll', payload: { claim: 'c1' }, delayMs: 60_000 });
      expect(await r.runOnce()).toBe(0);
      await makeDue(store);
      expect(await r.runOnce()).toBe(1);
      expect(ran).toEqual([{ claim: 'c1' }]);
      expect((await job(store, id))?.status).toBe('done');
      expect(await r.runOnce()).toBe(0);
    });
  });

  it('retries a failing job with backoff and marks it dead after maxAttempts', async () => {
    await withStore(factory, async (store) => {
      let calls = 0;
      const r = runner(store, {
        flaky: async () => {
          calls += 1;
          throw new Error('upstream down');
        },
      });
      const { id } = await scheduleJob(store, { kind: 'flaky', payload: {}, maxAttempts: 3 });
      await r.runOnce();
      expect(await job(store, id)).toEqual({ status: 'pending', attempts: 1, last_error: 'upstream down' });
      expect(await r.runOnce()).toBe(0); // backing off
      for (let i = 0; i < 3; i++) {
        await makeDue(store);
        await r.runOnce();
      }
      expect(calls).toBe(3);
      expect((await job(store, id))?.status).toBe('dead');
    });
  });

  it('marks a job dead at once on a non-retryable error, and reschedules a polling job as success', async () => {
    await withStore(factory, async (store) => {
      let polls = 0;
      const r = runner(store, {
        bad: async () => {
          throw errors.validation('bad payload');
        },
        poll: async () => {
          polls += 1;
          return polls < 3 ? { rescheduleInMs: 30_000 } : undefined;
        },
      });
      const bad = await scheduleJob(store, { kind: 'bad', payload: {} });
      const poll = await scheduleJob(store, { kind: 'poll', payload: {}, maxAttempts: 1 });
      await r.runOnce();
      expect((await job(store, bad.id))?.status).toBe('dead');
      expect(await job(store, poll.id)).toEqual({ status: 'pending', attempts: 0, last_error: null });
      for (let i = 0; i < 2; i++) {
        await makeDue(store);
        await r.runOnce();
      }
      expect(polls).toBe(3);
      expect((await job(store, poll.id))?.status).toBe('done');
    });
  });

  it('keeps one unfinished job per dedupe key and allows a new one after it finished', async () => {
    await withStore(factory, async (store) => {
      const a = await scheduleJob(store, { kind: 'poll', payload: 1, dedupeKey: 'claim:c1' });
      const b = await scheduleJob(store, { kind: 'poll', payload: 2, dedupeKey: 'claim:c1' });
      expect(b).toEqual({ id: a.id, created: false });
      await runner(store, { poll: async () => undefined }).runOnce();
      const c = await scheduleJob(store, { kind: 'poll', payload: 3, dedupeKey: 'claim:c1' });
      expect(c.created).toBe(true);
      expect((await job(store, c.id))?.status).toBe('pending');
    });
  });

  it('picks up a job whose runner crashed once its lease expires', async () => {
    await withStore(factory, async (store) => {
      const { id } = await scheduleJob(store, { kind: 'k', payload: {} });
      await store.query(
        "UPDATE jobs SET status = 'running', attempts = 1, locked_until = now() - interval '1 second' WHERE id = $1",
        [id],
      );
      let ran = 0;
      const health = new HealthRegistry();
      const r = runner(store, { k: async () => void ran++ }, health);
      await r.runOnce();
      expect(ran).toBe(1);
      expect(await job(store, id)).toMatchObject({ status: 'done', attempts: 2 });
      expect((await health.report()).checks.jobs?.status).toBe('up');
    });
  });
});

describe('jobs on postgres with two runners', () => {
  it('runs each of 500 jobs exactly once', async () => {
    await withStore(postgresStores, async (store) => {
      for (let i = 0; i < 500; i += 100) {
        await store.transaction(async (tx) => {
          for (let j = i; j < i + 100; j++) await scheduleJob(tx, { kind: 'k', payload: j });
        });
      }
      const seen: number[] = [];
      const handlers = { k: async (j: { payload: unknown }) => void seen.push(j.payload as number) };
      const a = runner(store, handlers);
      const b = runner(store, handlers);
      const drain = async (r: JobRunner) => {
        let idle = 0;
        while (idle < 3) idle = (await r.runOnce()) === 0 ? idle + 1 : 0;
      };
      await Promise.all([drain(a), drain(b)]);
      expect(seen).toHaveLength(500);
      expect(new Set(seen).size).toBe(500);
    });
  });
});
