import { z } from 'zod';
import { envInt, setting } from '../setting.js';

/** Settings of the resilience area. Owned by that area; each entry is documented in the README's table. */
export const resilienceSettings = {
  httpAttemptTimeoutMs: setting({
    env: 'CAREBRIDGE_HTTP_ATTEMPT_TIMEOUT_MS',
    schema: envInt(50, 120_000),
    default: 5_000,
    description: 'Default per-attempt timeout of outbound calls (ms); an integration may set its own.',
  }),
  httpTotalTimeoutMs: setting({
    env: 'CAREBRIDGE_HTTP_TOTAL_TIMEOUT_MS',
    schema: envInt(100, 600_000),
    default: 15_000,
    description: 'Default total time budget of one outbound call including retries (ms).',
  }),
  httpMaxAttempts: setting({
    env: 'CAREBRIDGE_HTTP_MAX_ATTEMPTS',
    schema: envInt(1, 10),
    default: 3,
    description: 'Default maximum attempts (first try included) of a retryable outbound call.',
  }),
  httpConnections: setting({
    env: 'CAREBRIDGE_HTTP_CONNECTIONS',
    schema: envInt(1, 1024),
    default: 64,
    description: 'Keep-alive connections per upstream origin.',
  }),
  retryBudgetRatio: setting({
    env: 'CAREBRIDGE_RETRY_BUDGET_RATIO',
    schema: z.preprocess((v) => (typeof v === 'string' ? Number(v) : v), z.number().min(0).max(1)),
    default: 0.2,
    description: 'Share of requests per integration that may be retries (0–1), in a sliding 10 s window.',
  }),
  retryBudgetMinPerSecond: setting({
    env: 'CAREBRIDGE_RETRY_BUDGET_MIN_PER_SECOND',
    schema: envInt(0, 10_000),
    default: 3,
    description: 'Retries per second always allowed per integration, whatever the ratio (the floor).',
  }),
  outboxBatchSize: setting({
    env: 'CAREBRIDGE_OUTBOX_BATCH_SIZE',
    schema: envInt(1, 5_000),
    default: 100,
    description: 'Outbox rows one relay claims and publishes per round.',
  }),
  outboxPollIntervalMs: setting({
    env: 'CAREBRIDGE_OUTBOX_POLL_INTERVAL_MS',
    schema: envInt(10, 60_000),
    default: 500,
    description: 'How often an idle outbox relay or job runner looks for due work (ms).',
  }),
  outboxMaxAttempts: setting({
    env: 'CAREBRIDGE_OUTBOX_MAX_ATTEMPTS',
    schema: envInt(1, 1_000),
    default: 25,
    description: "Publish attempts before an outbox row is dead-lettered (status 'dead').",
  }),
  outboxMaxAgeSeconds: setting({
    env: 'CAREBRIDGE_OUTBOX_MAX_AGE_SECONDS',
    schema: envInt(1, 86_400),
    default: 300,
    description: '/health/ready reports the outbox degraded when its oldest pending row is older than this.',
  }),
  idempotencyTtlSeconds: setting({
    env: 'CAREBRIDGE_IDEMPOTENCY_TTL_SECONDS',
    schema: envInt(86_400, 30 * 86_400),
    default: 86_400,
    description: 'How long an Idempotency-Key and its stored answer are kept (at least 24 h).',
  }),
  idempotencyLockSeconds: setting({
    env: 'CAREBRIDGE_IDEMPOTENCY_LOCK_SECONDS',
    schema: envInt(5, 3_600),
    default: 120,
    description:
      'After this long an unfinished request no longer holds its Idempotency-Key (crash recovery).',
  }),
  redisUrl: setting({
    env: 'REDIS_URL',
    schema: z.url({ error: 'expected a redis:// or rediss:// URL' }).optional(),
    // No default in any profile: the embedded default is in-memory limits, as PGlite is for the store, and a
    // shared limit must point at a deliberately chosen (in production, TLS) Redis.
    description:
      'Redis for rate limits shared by every gateway instance (per caller, sign-in, per provider account); optional in readiness (`redis`), and while it is unreachable each instance limits alone. Unset: each instance limits alone, in memory.',
    secret: true,
    transport: 'url',
  }),
};
