import type { Migration } from '../../kernel/store/index.js';

/**
 * The payments ledger: every payment, refund and subscription CareBridge asked the processor for, keyed by
 * our id, with the provider's ids. `provider_idempotency_key` is written BEFORE the processor is called, so
 * after a crash or a lost answer the same key is reused (and the processor replays instead of charging twice).
 */
export const paymentsMigrations: Migration[] = [
  {
    version: 10,
    name: 'payments',
    sql: `
CREATE TABLE payments (
  id                        text        PRIMARY KEY,
  provider_idempotency_key  text        NOT NULL UNIQUE,
  request_hash              text        NOT NULL,
  customer_id               text        NOT NULL,
  amount                    bigint      NOT NULL CHECK (amount > 0),
  currency                  text        NOT NULL,
  payment_method            text        NOT NULL,
  description               text,
  metadata                  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  receipt_email             text,
  status                    text        NOT NULL CHECK (status IN ('processing', 'pending', 'succeeded', 'failed', 'unknown')),
  provider_charge_id        text        UNIQUE,
  amount_refunded           bigint      NOT NULL DEFAULT 0,
  failure_code              text,
  decline_code              text,
  failure_message           text,
  attempts                  int         NOT NULL DEFAULT 0,
  created_by                text,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_created ON payments (created_at DESC, id DESC);
CREATE INDEX payments_customer ON payments (customer_id, created_at DESC);
CREATE INDEX payments_unresolved ON payments (updated_at) WHERE status IN ('processing', 'unknown');

CREATE TABLE payment_refunds (
  id                        text        PRIMARY KEY,
  payment_id                text        NOT NULL REFERENCES payments (id),
  provider_idempotency_key  text        NOT NULL UNIQUE,
  request_hash              text        NOT NULL,
  amount                    bigint      CHECK (amount IS NULL OR amount > 0),
  currency                  text        NOT NULL,
  reason                    text,
  status                    text        NOT NULL CHECK (status IN ('processing', 'pending', 'succeeded', 'failed', 'unknown')),
  provider_refund_id        text        UNIQUE,
  failure_reason            text,
  created_by                text,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_refunds_payment ON payment_refunds (payment_id, created_at);

CREATE TABLE payment_subscriptions (
  id                        text        PRIMARY KEY,
  provider_idempotency_key  text        NOT NULL UNIQUE,
  request_hash              text        NOT NULL,
  customer_id               text        NOT NULL,
  price_id                  text        NOT NULL,
  payment_method            text        NOT NULL,
  trial_period_days         int,
  metadata                  jsonb       NOT NULL DEFAULT '{}'::jsonb,
  status                    text        NOT NULL,
  provider_subscription_id  text        UNIQUE,
  current_period_start      timestamptz,
  current_period_end        timestamptz,
  trial_end                 timestamptz,
  cancel_at_period_end      boolean     NOT NULL DEFAULT false,
  canceled_at               timestamptz,
  latest_invoice_id         text,
  created_by                text,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_subscriptions_customer ON payment_subscriptions (customer_id, created_at DESC);
`,
  },
];
