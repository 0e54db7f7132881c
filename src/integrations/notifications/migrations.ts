import type { Migration } from '../../kernel/store/index.js';

/**
 * Notifications ledger: one row per notification (our id = the AMQP messageId), its lifecycle status and
 * timestamps, and every status report received (deduplicated by the report's message id).
 * The recipient is stored masked only; the full message lives in the outbox row until it is published.
 */
export const notificationsMigrations: Migration[] = [
  {
    version: 30,
    name: 'notifications',
    sql: `
CREATE TABLE notifications (
  id                  text        PRIMARY KEY,
  channel             text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
  status              text        NOT NULL CHECK (status IN ('accepted', 'queued', 'sent', 'delivered', 'failed', 'bounced', 'dead_lettered')),
  recipient_masked    text        NOT NULL,
  template            text,
  correlation_id      text,
  attempts            int         NOT NULL DEFAULT 0,
  provider            text,
  provider_message_id text,
  reason              text,
  timestamps          jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_correlation_id ON notifications (correlation_id);
CREATE INDEX notifications_open ON notifications (created_at) WHERE status IN ('accepted', 'queued', 'sent');

CREATE TABLE notification_events (
  event_id            text        PRIMARY KEY,
  notification_id     text        NOT NULL,
  status              text        NOT NULL,
  at                  timestamptz NOT NULL,
  attempt             int,
  provider            text,
  reason              text,
  received_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_events_notification_id ON notification_events (notification_id, at);
`,
  },
];
