import type { z } from 'zod';
import { firstIssue } from '../../kernel/errors/index.js';
import { newId } from '../../kernel/ids/index.js';
import { enqueue, type OutboxRecord, type Queryable } from '../../kernel/store/index.js';
import { notificationErrors } from './errors.js';
import {
  type Channel,
  emailInputSchema,
  LIMITS,
  MESSAGE_SCHEMA_VERSION,
  type NotificationContent,
  type NotificationInput,
  type NotificationMessage,
  type NotificationStatus,
  type NotificationStatusWord,
  pushInputSchema,
  smsInputSchema,
} from './schemas.js';
import { renderEmail } from './templates.js';
import { NOTIFICATION_DESTINATIONS } from './topology.js';

export interface EnqueueOptions {
  /** Our id (also the AMQP messageId). Default `ntf_<ULID>`. If a row with this id exists, nothing new is written. */
  id?: string;
  /** Carried as the AMQP correlationId and in the ledger (e.g. a payment id or request id). Default: the id. */
  correlationId?: string;
  now?: Date;
}

export interface EnqueueResult {
  id: string;
  /** True when `opts.id` was already in the ledger (nothing was written this time). */
  duplicate: boolean;
}

type Built = { content: NotificationContent; recipient: string; template?: string };

/** Parses a channel's input or throws NOTIFICATIONS_INVALID_MESSAGE naming the first offending field. */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const { field, summary } = firstIssue(parsed.error, 'body');
  throw notificationErrors.invalidMessage(summary, { details: { field } });
}

/**
 * An email's `text` and `html` are each bounded after templates are rendered (LIMITS.emailBodyBytes, UTF-8);
 * the refusal names the field that is over — `variables` when that part came from the template — and the limit.
 */
function buildEmail(input: unknown): Built {
  const v = parse(emailInputSchema, input);
  const rendered = renderEmail(v);
  for (const part of ['text', 'html'] as const) {
    const bytes = Buffer.byteLength(rendered[part] ?? '');
    if (bytes <= LIMITS.emailBodyBytes) continue;
    const field = v[part] !== undefined ? part : 'variables';
    throw notificationErrors.messageTooLarge(
      `${field}: the email's ${part} is ${bytes} bytes once rendered; the limit is ${LIMITS.emailBodyBytes} bytes (256 KiB) for each of text and html`,
      { details: { field, limitBytes: LIMITS.emailBodyBytes, bytes } },
    );
  }
  return {
    content: { to: v.to, ...rendered },
    recipient: v.to,
    ...(v.template ? { template: v.template } : {}),
  };
}

function buildSms(input: unknown): Built {
  const v = parse(smsInputSchema, input);
  return { content: { to: v.to, text: v.text }, recipient: v.to };
}

function buildPush(input: unknown): Built {
  const v = parse(pushInputSchema, input);
  const content = {
    deviceToken: v.deviceToken,
    title: v.title,
    body: v.body,
    ...(v.data ? { data: v.data } : {}),
  };
  const bytes = Buffer.byteLength(JSON.stringify({ title: v.title, body: v.body, data: v.data ?? {} }));
  if (bytes > LIMITS.pushPayloadBytes) {
    // One limit for the whole payload (APNs and FCM count title, body and data together).
    const field = v.data ? 'data' : 'body';
    throw notificationErrors.messageTooLarge(
      `${field}: the push payload (title, body and data) is ${bytes} bytes; the limit is ${LIMITS.pushPayloadBytes} bytes`,
      { details: { field, limitBytes: LIMITS.pushPayloadBytes, bytes } },
    );
  }
  return { content, recipient: v.deviceToken };
}

/** The one place a channel chooses its rules: schema, rendering and size limits. */
const BUILDERS: Record<Channel, (input: unknown) => Built> = {
  email: buildEmail,
  sms: buildSms,
  push: buildPush,
};

/** Validates, renders templates and checks sizes; throws NOTIFICATIONS_* errors (400/413). */
export function buildContent(input: NotificationInput): Built {
  const { channel, ...rest } = input as NotificationInput & Record<string, unknown>;
  const build = Object.hasOwn(BUILDERS, channel) ? BUILDERS[channel] : undefined;
  if (!build)
    throw notificationErrors.invalidMessage(`unknown channel "${String(channel)}"`, {
      details: { field: 'channel' },
    });
  return build(rest);
}

/** `patient@example.com` → `p*****@example.com`; `+15005550006` → `+*******0006`; tokens keep 6 characters. */
export function maskRecipient(channel: Channel, r: string): string {
  if (channel === 'email') {
    const [local = '', domain = ''] = r.split('@');
    return `${local.slice(0, 1)}${'*'.repeat(Math.max(1, local.length - 1))}@${domain}`;
  }
  if (channel === 'sms') return `+${'*'.repeat(Math.max(0, r.length - 5))}${r.slice(-4)}`;
  return `${r.slice(0, 6)}…`;
}

/**
 * Accepts a notification inside the caller's transaction: writes the ledger row (status `accepted`) and the
 * outbox row that the relay publishes to RabbitMQ with publisher confirms. Nothing reaches the broker unless
 * the caller's transaction commits. Throws NOTIFICATIONS_INVALID_MESSAGE / _TEMPLATE_* / _MESSAGE_TOO_LARGE.
 *
 * ```ts
 * await store.transaction(async (tx) => {
 *   // … the business write …
 *   await enqueueNotification(tx, { channel: 'email', to, subject: 'Your receipt', template: 'payment_receipt',
 *     variables: { amount: '12.50', currency: 'USD', paymentId } }, { correlationId: paymentId });
 * });
 * ```
 */
export async function enqueueNotification(
  tx: Queryable,
  input: NotificationInput,
  opts: EnqueueOptions = {},
): Promise<EnqueueResult> {
  const { content, recipient, template } = buildContent(input);
  const id = opts.id ?? newId('ntf');
  const now = (opts.now ?? new Date()).toISOString();
  const correlationId = opts.correlationId ?? id;
  const inserted = await tx.query(
    `INSERT INTO notifications (id, channel, status, recipient_masked, template, correlation_id, timestamps, created_at, updated_at)
     VALUES ($1, $2, 'accepted', $3, $4, $5, jsonb_build_object('accepted', $6::text), $6::timestamptz, $6::timestamptz)
     ON CONFLICT (id) DO NOTHING`,
    [id, input.channel, maskRecipient(input.channel, recipient), template ?? null, correlationId, now],
  );
  if (inserted.rowCount === 0) return { id, duplicate: true };
  const message: NotificationMessage = {
    schemaVersion: MESSAGE_SCHEMA_VERSION,
    id,
    channel: input.channel,
    correlationId,
    createdAt: now,
    ...(template ? { template } : {}),
    content,
  };
  await enqueue(tx, {
    id,
    destination: NOTIFICATION_DESTINATIONS[input.channel],
    payload: message,
    headers: {
      'x-correlation-id': correlationId,
      'x-message-type': `notification.${input.channel}.v${MESSAGE_SCHEMA_VERSION}`,
    },
  });
  return { id, duplicate: false };
}

interface Row {
  id: string;
  channel: Channel;
  status: NotificationStatusWord;
  recipient_masked: string;
  template: string | null;
  correlation_id: string | null;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
  reason: string | null;
  timestamps: Record<string, string>;
  created_at: Date | string;
  updated_at: Date | string;
}

function toStatus(r: Row): NotificationStatus {
  return {
    id: r.id,
    channel: r.channel,
    status: r.status,
    recipient: r.recipient_masked,
    template: r.template,
    correlationId: r.correlation_id,
    attempts: r.attempts,
    provider: r.provider,
    providerMessageId: r.provider_message_id,
    reason: r.reason,
    timestamps: r.timestamps ?? {},
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

/** The current NotificationStatus, or NOTIFICATIONS_NOT_FOUND. */
export async function getNotificationStatus(q: Queryable, id: string): Promise<NotificationStatus> {
  const { rows } = await q.query<Row>('SELECT * FROM notifications WHERE id = $1', [id]);
  const r = rows[0];
  if (!r) throw notificationErrors.notFound(`notification ${id} does not exist`, { details: { id } });
  return toStatus(r);
}

/** The statuses of `ids`, in that order, read in one query; NOTIFICATIONS_NOT_FOUND names a missing one. */
export async function getNotificationStatuses(q: Queryable, ids: string[]): Promise<NotificationStatus[]> {
  if (ids.length === 0) return [];
  const { rows } = await q.query<Row>('SELECT * FROM notifications WHERE id = ANY($1::text[])', [ids]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) throw notificationErrors.notFound(`notification ${id} does not exist`, { details: { id } });
    return toStatus(r);
  });
}

const DESTINATIONS = new Set(Object.values(NOTIFICATION_DESTINATIONS));

/**
 * The broker confirmed these outbox records (the transport's `onConfirmed`): the notifications among them
 * become `queued`; records for other `rabbitmq:` destinations are not notifications and are left alone.
 */
export function markPublished(
  q: Queryable,
  records: ReadonlyArray<Pick<OutboxRecord, 'id' | 'destination'>>,
  at = new Date(),
): Promise<number> {
  const ids = records.filter((r) => DESTINATIONS.has(r.destination)).map((r) => r.id);
  return markQueued(q, ids, at);
}

/** Marks notifications `queued` once the broker confirmed them. */
async function markQueued(q: Queryable, ids: string[], at = new Date()): Promise<number> {
  if (ids.length === 0) return 0;
  const r = await q.query(
    `UPDATE notifications SET status = 'queued', updated_at = $2::timestamptz,
            timestamps = timestamps || jsonb_build_object('queued', $3::text)
      WHERE id = ANY($1::text[]) AND status = 'accepted'`,
    [ids, at.toISOString(), at.toISOString()],
  );
  return r.rowCount;
}
