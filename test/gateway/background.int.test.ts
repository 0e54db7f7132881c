import { describe, expect, it } from 'vitest';
import { PURGE_JOB } from '../../src/cli/background.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime } from '../../src/cli/runtime.js';
import { enqueue, type OutboxRecord } from '../../src/kernel/store/outbox.js';

const config = loadConfig({
  env: { CAREBRIDGE_PROFILE: 'test', PORT: '0', CAREBRIDGE_DATA_DIR: 'memory://' },
  cwd: '/nonexistent',
});

describe('runtime background work', () => {
  it('relays outbox rows to the transport a component provides and runs its jobs', async () => {
    const published: OutboxRecord[] = [];
    const ran: unknown[] = [];
    const runtime = await createRuntime({
      config,
      components: [
        {
          name: 'probe',
          async start() {
            return {
              outboxTransports: [
                {
                  prefix: 'probe:',
                  transport: {
                    async publish(records) {
                      published.push(...records);
                      return records.map((r) => ({ id: r.id, ok: true as const }));
                    },
                  },
                },
              ],
              jobHandlers: {
                'probe.work': async (job) => {
                  ran.push(job.payload);
                },
              },
              async stop() {},
            };
          },
        },
      ],
    });
    try {
      await enqueue(runtime.store, { destination: 'probe:q', payload: { n: 1 } });
      runtime.wakeOutbox();
      await runtime.store.query(
        "INSERT INTO jobs (id, kind, payload) VALUES ('job_probe', 'probe.work', '{\"n\":2}'::jsonb)",
      );
      await expect.poll(() => published.map((r) => r.payload), { timeout: 10_000 }).toEqual([{ n: 1 }]);
      await expect.poll(() => ran, { timeout: 10_000 }).toEqual([{ n: 2 }]);
    } finally {
      await runtime.stop();
    }
  });

  it('purges expired idempotency keys and keeps one purge job scheduled', async () => {
    const runtime = await createRuntime({ config, components: [] });
    try {
      await runtime.store.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, state, expires_at)
         VALUES ('s', 'old', 'h', 'completed', now() - interval '1 hour'),
                ('s', 'fresh', 'h', 'completed', now() + interval '1 day')`,
      );
      // The purge job was scheduled due-now at start; push it to run again now that the rows exist.
      await runtime.store.query("UPDATE jobs SET run_at = now(), status = 'pending' WHERE kind = $1", [
        PURGE_JOB,
      ]);
      await expect
        .poll(
          async () => (await runtime.store.query<{ key: string }>('SELECT key FROM idempotency_keys')).rows,
          {
            timeout: 10_000,
          },
        )
        .toEqual([{ key: 'fresh' }]);
      await expect
        .poll(async () => {
          const { rows } = await runtime.store.query<{ n: number; later: boolean }>(
            "SELECT count(*) AS n, bool_and(run_at > now() + interval '50 minutes') AS later FROM jobs WHERE kind = $1 AND status = 'pending'",
            [PURGE_JOB],
          );
          return rows[0];
        })
        .toEqual({ n: 1, later: true });
    } finally {
      await runtime.stop();
    }
  });
});
