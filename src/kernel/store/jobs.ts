import { isCareBridgeError } from '../errors/index.js';
import { newId } from '../ids/index.js';
import type { HealthRegistry, Logger, Metrics } from '../telemetry/index.js';
import { PollingLoop } from './polling-loop.js';
import type { Queryable, Store } from './store.js';

/**
 * Delayed and retried work in the `jobs` table (claim-status polling, background retries of a deferred
 * provider call). Claiming follows the outbox's rule: batches taken with `FOR UPDATE SKIP LOCKED` and leased
 * with `locked_until`, so several runners (one per instance) never run a job twice at the same time; a
 * runner that crashes loses its lease and another one picks the job up. Handlers must be idempotent.
 */
export interface JobSpec {
  kind: string;
  payload: unknown;
  id?: string;
  /** When to run; default now (or now + delayMs). */
  runAt?: Date;
  delayMs?: number;
  /** Attempts before the job is dead. Default 10. */
  maxAttempts?: number;
  /** At most one unfinished job per dedupe key; a finished one is replaced. */
  dedupeKey?: string;
}

export interface JobRecord {
  id: string;
  kind: string;
  payload: unknown;
  /** This run included. */
  attempts: number;
  maxAttempts: number;
  createdAt: Date;
}

/** Return `{ rescheduleInMs }` to run again later as a success (polling), not as a failure. */
export type JobOutcome = undefined | { rescheduleInMs: number };
export type JobHandler = (
  job: JobRecord,
  ctx: { signal: AbortSignal },
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing is the common case
) => Promise<JobOutcome | undefined | void>;

/** Schedules a job (inside the caller's transaction when given one). With a live dedupe key, returns the existing job. */
export async function scheduleJob(q: Queryable, spec: JobSpec): Promise<{ id: string; created: boolean }> {
  const id = spec.id ?? newId('job');
  const runAt = spec.runAt ?? new Date(Date.now() + (spec.delayMs ?? 0));
  const { rows } = await q.query<{ id: string }>(
    `INSERT INTO jobs (id, kind, payload, run_at, max_attempts, dedupe_key) VALUES ($1, $2, $3::jsonb, $4, $5, $6)
     ON CONFLICT (dedupe_key) DO UPDATE
        SET id = EXCLUDED.id, kind = EXCLUDED.kind, payload = EXCLUDED.payload, run_at = EXCLUDED.run_at,
            max_attempts = EXCLUDED.max_attempts, status = 'pending', attempts = 0, last_error = NULL,
            locked_until = NULL, created_at = now(), finished_at = NULL
      WHERE jobs.status IN ('done', 'dead')
     RETURNING id`,
    [
      id,
      spec.kind,
      JSON.stringify(spec.payload ?? null),
      runAt,
      spec.maxAttempts ?? 10,
      spec.dedupeKey ?? null,
    ],
  );
  if (rows[0]) return { id: rows[0].id, created: true };
  const existing = await q.query<{ id: string }>('SELECT id FROM jobs WHERE dedupe_key = $1', [
    spec.dedupeKey,
  ]);
  return { id: existing.rows[0]?.id ?? id, created: false };
}

export interface JobRunnerOptions {
  store: Store;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  metrics: Metrics;
  health?: HealthRegistry;
  batchSize?: number;
  pollIntervalMs?: number;
  /** Lease of a running job (ms); a job running longer is presumed crashed and run again. Default 5 min. */
  lockMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Readiness is degraded when a due job has waited longer than this. Default 300 s. */
  maxAgeSeconds?: number;
}

type Row = {
  id: string;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  created_at: Date | string;
};

export class JobRunner {
  private readonly options: Required<Omit<JobRunnerOptions, 'health'>>;
  private readonly loop: PollingLoop;
  private readonly abort = new AbortController();
  private readonly runs;

  constructor(opts: JobRunnerOptions) {
    this.options = {
      batchSize: 10,
      pollIntervalMs: 500,
      lockMs: 300_000,
      backoffBaseMs: 1_000,
      backoffMaxMs: 3_600_000,
      maxAgeSeconds: 300,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
    } as Required<Omit<JobRunnerOptions, 'health'>>;
    this.loop = new PollingLoop(
      async () => (await this.runOnce()) >= this.options.batchSize,
      this.options.pollIntervalMs,
      (err) => this.options.logger.warn({ err }, 'job runner round failed'),
    );
    this.runs = opts.metrics.counter('carebridge_jobs_runs_total', 'Job runs by outcome.', [
      'kind',
      'outcome',
    ]);
    opts.health?.register({
      name: 'jobs',
      required: false,
      target: opts.store.target,
      check: async () => {
        const { rows } = await this.options.store.query<{
          due: number | string;
          dead: number | string;
          age: number | string | null;
        }>(
          `SELECT count(*) FILTER (WHERE status = 'pending' AND run_at <= now()) AS due,
                  count(*) FILTER (WHERE status = 'dead') AS dead,
                  EXTRACT(EPOCH FROM now() - min(run_at) FILTER (WHERE status = 'pending' AND run_at <= now())) AS age
             FROM jobs`,
        );
        const age = Number(rows[0]?.age ?? 0);
        return {
          status: age > this.options.maxAgeSeconds ? 'degraded' : 'up',
          detail: `${Number(rows[0]?.due ?? 0)} due, oldest waiting ${Math.round(age)} s, ${Number(rows[0]?.dead ?? 0)} dead`,
        };
      },
    });
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop.stop();
  }

  /** Claims due jobs and runs them. Returns how many ran. */
  async runOnce(): Promise<number> {
    const kinds = Object.keys(this.options.handlers);
    // A job whose lease ran out on its last attempt (the runner died every time) is dead, not retried forever.
    await this.options.store.query(
      `UPDATE jobs SET status = 'dead', last_error = 'lease expired on the last attempt', finished_at = now(), locked_until = NULL
        WHERE status = 'running' AND locked_until <= now() AND attempts >= max_attempts`,
    );
    const { rows } = await this.options.store.query<Row>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_until = now() + $3 * interval '1 millisecond'
        WHERE id IN (
          SELECT id FROM jobs
           WHERE ((status = 'pending' AND run_at <= now()) OR (status = 'running' AND locked_until <= now()))
             AND kind = ANY($1::text[])
           ORDER BY run_at
           LIMIT $2
           FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, payload, attempts, max_attempts, created_at`,
      [kinds, this.options.batchSize, this.options.lockMs],
    );
    await Promise.all(rows.map((r) => this.runJob(r)));
    return rows.length;
  }

  private async runJob(r: Row): Promise<void> {
    const job: JobRecord = {
      id: r.id,
      kind: r.kind,
      payload: r.payload,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      createdAt: new Date(r.created_at),
    };
    const handler = this.options.handlers[r.kind];
    try {
      const out = await handler?.(job, { signal: this.abort.signal });
      if (out && typeof out === 'object' && 'rescheduleInMs' in out) {
        await this.options.store.query(
          `UPDATE jobs SET status = 'pending', attempts = 0, locked_until = NULL, last_error = NULL,
                  run_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
          [r.id, Math.max(0, out.rescheduleInMs)],
        );
        this.runs.inc({ kind: r.kind, outcome: 'rescheduled' });
        return;
      }
      await this.options.store.query(
        "UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL, last_error = NULL WHERE id = $1",
        [r.id],
      );
      this.runs.inc({ kind: r.kind, outcome: 'done' });
    } catch (err) {
      // A non-retryable CareBridgeError will fail the same way again: dead now, not after N attempts.
      const final = r.attempts >= r.max_attempts || (isCareBridgeError(err) && !err.retryable);
      const serverDelay =
        isCareBridgeError(err) && err.retryAfterSeconds !== undefined
          ? err.retryAfterSeconds * 1000
          : undefined;
      const delay = serverDelay ?? this.backoffMs(r.attempts);
      const message = (err instanceof Error ? err.message : String(err)).slice(0, 500);
      await this.options.store.query(
        `UPDATE jobs SET status = $2, locked_until = NULL, last_error = $3, run_at = now() + $4 * interval '1 millisecond',
                finished_at = CASE WHEN $2 = 'dead' THEN now() ELSE NULL END WHERE id = $1`,
        [r.id, final ? 'dead' : 'pending', message, delay],
      );
      this.runs.inc({ kind: r.kind, outcome: final ? 'dead' : 'failed' });
      this.options.logger[final ? 'error' : 'warn'](
        { jobId: r.id, kind: r.kind, attempts: r.attempts, error: message },
        final ? 'job dead' : 'job failed; will retry',
      );
    }
  }

  private backoffMs(attempt: number): number {
    const exp = Math.min(
      this.options.backoffMaxMs,
      this.options.backoffBaseMs * 2 ** Math.max(0, attempt - 1),
    );
    return Math.round(exp * (0.5 + Math.random() * 0.5));
  }
}
