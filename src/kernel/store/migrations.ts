import type { Migration } from './migrate.js';

/** Kernel tables: idempotency keys, the outbox, delayed jobs, inbound webhook events, the audit log. */
export const KERNEL_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'kernel',
    sql: `
CREATE TABLE idempotency_keys (
  scope          text        NOT NULL,
  key            text        NOT NULL,
  request_hash   text        NOT NULL,
  state          text        NOT NULL CHECK (state IN ('in_progress', 'completed')),
  response       jsonb,
  locked_until   timestamptz,
  created_at     timestamptz NOT NULL DEFAULT now(),
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

CREATE TABLE outbox (
  id              text        PRIMARY KEY,
  destination     text        NOT NULL,
  key             text,
  payload         jsonb       NOT NULL,
  headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'dead')),
  attempts        int         NOT NULL DEFAULT 0,
  last_error      text,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  published_at    timestamptz,
  seq             bigserial
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at, seq) WHERE status = 'pending';
CREATE INDEX outbox_key ON outbox (destination, key, seq) WHERE status = 'pending';

CREATE TABLE jobs (
  id              text        PRIMARY KEY,
  kind            text        NOT NULL,
  payload         jsonb       NOT NULL,
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
  attempts        int         NOT NULL DEFAULT 0,
  max_attempts    int         NOT NULL DEFAULT 10,
  last_error      text,
  run_at          timestamptz NOT NULL DEFAULT now(),
  locked_until    timestamptz,
  dedupe_key      text        UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE status IN ('pending', 'running');

CREATE TABLE webhook_events (
  provider        text        NOT NULL,
  event_id        text        NOT NULL,
  event_type      text        NOT NULL,
  raw_body        text        NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  processed_at    timestamptz,
  attempts        int         NOT NULL DEFAULT 0,
  last_error      text,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;

CREATE TABLE audit_log (
  id              bigserial   PRIMARY KEY,
  at              timestamptz NOT NULL DEFAULT now(),
  actor           text        NOT NULL,
  action          text        NOT NULL,
  resource        text        NOT NULL,
  outcome         text        NOT NULL,
  request_id      text,
  details         jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at);
`,
  },
  {
    // Business metrics written before any transport delivered `kafka:` (issue #13 §2) would wait for good and
    // keep /health/ready degraded. Dead-lettered, not deleted: `requeueDead` sends them once analytics exists.
    version: 2,
    name: 'outbox-undeliverable-metrics',
    sql: `
UPDATE outbox
   SET status = 'dead',
       last_error = 'no transport delivers kafka: yet (migration 002); requeue once the analytics transport is registered, or delete'
 WHERE status = 'pending' AND destination LIKE 'kafka:%';
`,
  },
];
