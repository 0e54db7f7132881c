import {
  IdempotencyStore,
  type JobHandler,
  JobRunner,
  type OutboxRelay,
  type OutboxTransport,
  type Store,
  scheduleJob,
  startOutboxRelay,
} from '../kernel/store/index.js';
import type { HealthRegistry, Logger, Metrics } from '../kernel/telemetry/index.js';
import type { Config } from './config.js';

/** Expired idempotency keys are deleted hourly; the dedupe key keeps one such job across all instances. */
export const PURGE_JOB = 'kernel.idempotency.purge';
const PURGE_EVERY_MS = 60 * 60 * 1000;

export interface Background {
  relay: OutboxRelay;
  jobs: JobRunner;
  stop(): Promise<void>;
}

/**
 * The instance's background workers: the outbox relay (with the transports components provide), the job
 * runner (with their handlers and the kernel's own) and the readiness report's refresh. Both claim rows with SKIP LOCKED, so every instance runs
 * them and none does the same work twice.
 */
export async function startBackground(opts: {
  store: Store;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  health: HealthRegistry;
  transports: Array<{ prefix: string; transport: OutboxTransport }>;
  jobHandlers: Record<string, JobHandler>;
}): Promise<Background> {
  const { store, config, logger, metrics, health } = opts;
  const keys = new IdempotencyStore(store, { ttlSeconds: config.idempotencyTtlSeconds });
  const handlers: Record<string, JobHandler> = {
    ...opts.jobHandlers,
    [PURGE_JOB]: async () => {
      const purged = await keys.purgeExpired();
      if (purged > 0) logger.info({ purged }, 'expired idempotency keys purged');
      return { rescheduleInMs: PURGE_EVERY_MS };
    },
  };
  await scheduleJob(store, { kind: PURGE_JOB, payload: {}, dedupeKey: PURGE_JOB, maxAttempts: 1_000 });
  const relay = startOutboxRelay({ store, transports: opts.transports, logger, metrics, health, config });
  const jobs = new JobRunner({ store, handlers, logger, metrics, health });
  jobs.start();
  // /health/ready serves this report; probes never trigger a check themselves.
  health.startRefreshing();
  return {
    relay,
    jobs,
    async stop() {
      health.stopRefreshing();
      await Promise.all([relay.stop(), jobs.stop()]);
    },
  };
}
