import type { KernelConfig } from '../config/index.js';
import type { HealthRegistry, Logger, Metrics } from '../telemetry/index.js';
import { type OutboxRecord, type OutboxTransport, outboxBacklog, type PublishResult } from './outbox.js';
import { PollingLoop } from './polling-loop.js';
import type { Store } from './store.js';

export interface OutboxRelayOptions {
  store: Store;
  /** Rows go to the transport with the longest matching prefix ('rabbitmq:' matches 'rabbitmq:email_notifications'). */
  transports: Array<{ prefix: string; transport: OutboxTransport }>;
  logger: Logger;
  metrics: Metrics;
  /** Registers the `outbox` readiness check (degraded when the oldest pending row is older than maxAgeSeconds). */
  health?: HealthRegistry;
  /** Rows claimed per round. Default 100. */
  batchSize?: number;
  /** Idle poll interval (ms). Default 500. */
  pollIntervalMs?: number;
  /** Attempts before a row is dead-lettered. Default 25. */
  maxAttempts?: number;
  /** Names this relay in logs. */
  relayId?: string;
  /** How long a claimed row stays invisible to other relays while it is published (ms). Default 60 s. */
  leaseMs?: number;
  /** Backoff after a failed publish: base·2^(attempt-1), capped, with half jitter. Defaults 1 s and 5 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Readiness turns degraded past this age of the oldest pending row. Default 300 s. */
  maxAgeSeconds?: number;
  healthName?: string;
}

const DEFAULTS = {
  batchSize: 100,
  pollIntervalMs: 500,
  maxAttempts: 25,
  leaseMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 300_000,
  maxAgeSeconds: 300,
};
const BACKLOG_REFRESH_MS = 5_000;

/**
 * Publishes outbox rows. Several relays (one per gateway instance) can run on one database: a round claims a
 * batch with `FOR UPDATE SKIP LOCKED` and leases it by pushing `next_attempt_at` forward, so no other relay
 * sees those rows until they are marked or the lease runs out (a crashed relay). A row is not claimed while
 * an older pending row with the same (destination, key) exists, which keeps per-key order across relays,
 * retries and backoff (a key waits behind its failing head; a dead head stops blocking it).
 */
export class OutboxRelay {
  private readonly options: Required<Omit<OutboxRelayOptions, 'health' | 'relayId' | 'healthName'>> & {
    relayId: string;
  };
  private readonly prefixes: Array<{ prefix: string; transport: OutboxTransport }>;
  private readonly loop: PollingLoop;
  private lastBacklogAt = 0;
  private readonly published;
  private readonly backlogGauge;
  private readonly deadGauge;
  private readonly ageGauge;

  constructor(opts: OutboxRelayOptions) {
    this.options = {
      ...DEFAULTS,
      ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)),
      relayId: opts.relayId ?? `relay-${process.pid}`,
    } as typeof this.options;
    this.loop = new PollingLoop(
      () => this.round(),
      this.options.pollIntervalMs,
      (err) => this.options.logger.warn({ err, relay: this.options.relayId }, 'outbox relay round failed'),
    );
    for (const k of ['batchSize', 'maxAttempts'] as const) {
      if (!Number.isInteger(this.options[k]) || this.options[k] < 1)
        throw new RangeError(`OutboxRelay: ${k} must be a positive integer`);
    }
    this.prefixes = opts.transports
      .map((t) => ({ prefix: t.prefix.includes(':') ? t.prefix : `${t.prefix}:`, transport: t.transport }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
    const m = opts.metrics;
    this.published = m.counter('carebridge_outbox_messages_total', 'Outbox publish outcomes.', [
      'destination',
      'outcome',
    ]);
    this.backlogGauge = m.gauge('carebridge_outbox_backlog_messages', 'Outbox rows waiting to be published.');
    this.deadGauge = m.gauge('carebridge_outbox_dead_messages', "Outbox rows dead-lettered (status 'dead').");
    this.ageGauge = m.gauge(
      'carebridge_outbox_oldest_pending_age_seconds',
      'Age of the oldest pending outbox row.',
    );
    opts.health?.register({
      name: opts.healthName ?? 'outbox',
      required: false,
      target: opts.store.target,
      check: async () => {
        const b = await this.refreshBacklog();
        const detail = `${b.pending} pending, oldest ${Math.round(b.oldestPendingAgeSeconds)} s, ${b.dead} dead`;
        return { status: b.oldestPendingAgeSeconds > this.options.maxAgeSeconds ? 'degraded' : 'up', detail };
      },
    });
  }

  /** Starts the polling loop (idempotent). */
  start(): void {
    this.loop.start();
  }

  /** Pokes the loop after an enqueue, so the message does not wait for the next poll. */
  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Claims one batch, publishes it and records the outcome. Returns how many rows were published. */
  async runOnce(): Promise<number> {
    const claimed = await this.claim();
    if (claimed.length === 0) return 0;
    const byTransport = new Map<OutboxTransport, OutboxRecord[]>();
    for (const r of claimed) {
      const t = this.prefixes.find((p) => r.destination.startsWith(p.prefix))?.transport;
      if (!t) continue; // cannot happen: the claim only selects registered prefixes
      byTransport.set(t, [...(byTransport.get(t) ?? []), r]);
    }
    const results = (
      await Promise.all([...byTransport].map(([t, records]) => publishSafely(t, records)))
    ).flat();
    return this.record(claimed, results);
  }

  private async claim(): Promise<OutboxRecord[]> {
    const prefixes = this.prefixes.filter((p) => p.transport.ready?.() !== false).map((p) => p.prefix);
    if (prefixes.length === 0) return [];
    const { rows } = await this.options.store.query<
      Omit<OutboxRecord, 'createdAt'> & { created_at: Date | string; seq: number | string }
    >(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + $3 * interval '1 millisecond'
        WHERE id IN (
          SELECT o.id FROM outbox o
           WHERE o.status = 'pending' AND o.next_attempt_at <= now()
             AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS p(prefix) WHERE starts_with(o.destination, p.prefix))
             AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND e.destination = o.destination
                                AND e.key = o.key AND e.seq < o.seq)
           ORDER BY o.seq
           LIMIT $2
           FOR UPDATE SKIP LOCKED)
        RETURNING id, destination, key, payload, headers, attempts, created_at, seq`,
      [prefixes, this.options.batchSize, this.options.leaseMs],
    );
    return rows
      .sort((a, b) => Number(a.seq) - Number(b.seq))
      .map((r) => ({
        id: r.id,
        destination: r.destination,
        key: r.key,
        payload: r.payload,
        headers: r.headers ?? {},
        attempts: r.attempts,
        createdAt: new Date(r.created_at),
      }));
  }

  private async record(claimed: OutboxRecord[], results: PublishResult[]): Promise<number> {
    const byId = new Map(results.map((r) => [r.id, r]));
    const ok: string[] = [];
    const failed: Array<{ r: OutboxRecord; error: string }> = [];
    for (const r of claimed) {
      const res = byId.get(r.id);
      if (res?.ok) ok.push(r.id);
      else
        failed.push({
          r,
          error: res ? (res.error?.message ?? 'publish failed') : 'transport returned no result for this row',
        });
    }
    if (ok.length > 0) {
      await this.options.store.query(
        `UPDATE outbox SET status = 'published', published_at = now(), last_error = NULL WHERE id = ANY($1::text[]) AND status = 'pending'`,
        [ok],
      );
    }
    if (failed.length > 0) {
      await this.options.store.query(
        `UPDATE outbox o SET status = CASE WHEN o.attempts >= $4 THEN 'dead' ELSE 'pending' END,
                next_attempt_at = now() + f.delay_ms * interval '1 millisecond', last_error = f.err
           FROM unnest($1::text[], $2::int[], $3::text[]) AS f(id, delay_ms, err)
          WHERE o.id = f.id AND o.status = 'pending'`,
        [
          failed.map((f) => f.r.id),
          failed.map((f) => this.backoffMs(f.r.attempts)),
          failed.map((f) => f.error.slice(0, 500)),
          this.options.maxAttempts,
        ],
      );
    }
    for (const r of claimed) {
      const res = byId.get(r.id);
      const outcome = res?.ok ? 'published' : r.attempts >= this.options.maxAttempts ? 'dead' : 'failed';
      this.published.inc({ destination: r.destination, outcome });
    }
    for (const f of failed) {
      const dead = f.r.attempts >= this.options.maxAttempts;
      this.options.logger[dead ? 'error' : 'warn'](
        {
          relay: this.options.relayId,
          messageId: f.r.id,
          destination: f.r.destination,
          attempts: f.r.attempts,
          error: f.error,
        },
        dead ? 'outbox message dead-lettered' : 'outbox publish failed; will retry',
      );
    }
    return ok.length;
  }

  private backoffMs(attempt: number): number {
    const exp = Math.min(
      this.options.backoffMaxMs,
      this.options.backoffBaseMs * 2 ** Math.max(0, attempt - 1),
    );
    return Math.round(exp * (0.5 + Math.random() * 0.5));
  }

  private async refreshBacklog() {
    const b = await outboxBacklog(this.options.store);
    this.backlogGauge.set(b.pending);
    this.deadGauge.set(b.dead);
    this.ageGauge.set(b.oldestPendingAgeSeconds);
    this.lastBacklogAt = Date.now();
    return b;
  }

  /** One loop round: publish a batch, refresh the backlog figures now and then; true when the batch was full. */
  private async round(): Promise<boolean> {
    const published = await this.runOnce();
    if (Date.now() - this.lastBacklogAt >= BACKLOG_REFRESH_MS) await this.refreshBacklog();
    return published >= this.options.batchSize;
  }
}

async function publishSafely(t: OutboxTransport, records: OutboxRecord[]): Promise<PublishResult[]> {
  try {
    return await t.publish(records);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return records.map((r) => ({ id: r.id, ok: false as const, error }));
  }
}

/**
 * Builds and starts a relay from the resilience settings. The CLI runtime calls this once per instance with
 * the transports the components provide, and calls `stop()` on shutdown.
 */
export function startOutboxRelay(
  opts: Omit<OutboxRelayOptions, 'batchSize' | 'pollIntervalMs' | 'maxAttempts' | 'maxAgeSeconds'> & {
    config: Pick<
      KernelConfig,
      'outboxBatchSize' | 'outboxPollIntervalMs' | 'outboxMaxAttempts' | 'outboxMaxAgeSeconds'
    >;
  },
): OutboxRelay {
  const { config, ...rest } = opts;
  const relay = new OutboxRelay({
    ...rest,
    batchSize: config.outboxBatchSize,
    pollIntervalMs: config.outboxPollIntervalMs,
    maxAttempts: config.outboxMaxAttempts,
    maxAgeSeconds: config.outboxMaxAgeSeconds,
  });
  relay.start();
  return relay;
}
