import { z } from 'zod';
import { safeText } from '../../kernel/schemas/index.js';

/**
 * Request shapes, the wire message (schema version 1) and the status model of notifications.
 * The zod schemas validate library callers and the gateway alike (the gateway also turns them into OpenAPI).
 */
export const MESSAGE_SCHEMA_VERSION = 1;
export const CHANNELS = ['email', 'sms', 'push'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Limits: RFC 5321 (address 254, local part 64), RFC 5322 line (998), Twilio (1,600 chars), APNs/FCM (4 KiB). */
export const LIMITS = {
  emailAddress: 254,
  subject: 998,
  emailBodyBytes: 256 * 1024,
  smsChars: 1600,
  pushTitle: 256,
  pushBody: 2048,
  pushPayloadBytes: 4096,
  deviceToken: 4096,
  variables: 50,
  batch: 500,
} as const;

// Pragmatic addr-spec: dot-atom local part, at least one dot in the domain, labels of letters/digits/hyphens.
const EMAIL_RE =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

export const emailAddressSchema = z
  .string()
  .max(LIMITS.emailAddress, { error: `expected at most ${LIMITS.emailAddress} characters` })
  .regex(EMAIL_RE, { error: 'expected an email address such as patient@example.com' })
  .refine((s) => s.split('@')[0]!.length <= 64, { error: 'local part longer than 64 characters' })
  .describe('Recipient email address (RFC 5321 limits), e.g. patient@example.com.');

export const e164Schema = z
  .string()
  .regex(/^\+[1-9]\d{7,14}$/, { error: 'expected an E.164 phone number such as +15005550006' })
  .describe('Recipient phone number in E.164 format, e.g. +15005550006.');

export const deviceTokenSchema = z
  .string()
  .min(16, { error: 'expected a device token of at least 16 characters' })
  .max(LIMITS.deviceToken)
  .regex(/^[A-Za-z0-9:_.-]+$/, { error: 'expected an FCM or APNs device token (letters, digits, : _ . -)' })
  .describe('FCM registration token or APNs device token.');

const variableValue = z.union([safeText({ max: 10_000, multiline: true }), z.number(), z.boolean()]);

/**
 * A notification id: `ntf_<ULID>` for sends through the API, `ntf_receipt_pay_<ULID>` / `ntf_refund_re_<ULID>`
 * for the payments' receipts; callers of `enqueueNotification` may choose others of the same alphabet.
 */
export const notificationIdSchema = z
  .string()
  .regex(/^ntf_[A-Za-z0-9_]{1,96}$/, { error: 'expected a notification id (ntf_…, at most 100 characters)' });

export const emailInputSchema = z
  .strictObject({
    to: emailAddressSchema,
    // One line: the subject becomes a header (no CR/LF injection).
    subject: safeText({ min: 1, max: LIMITS.subject }),
    // Bounded in bytes by buildContent (413 NOTIFICATIONS_MESSAGE_TOO_LARGE), after templates are rendered.
    text: safeText({ min: 1, max: null, multiline: true }).optional(),
    html: safeText({ min: 1, max: null, multiline: true }).optional(),
    template: z
      .string()
      .regex(/^[a-z0-9_]{1,64}$/, { error: 'expected a template name such as payment_receipt' })
      .optional(),
    variables: z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), variableValue).optional(),
  })
  .refine((v) => v.text !== undefined || v.html !== undefined || v.template !== undefined, {
    error: 'one of text, html or template is required',
    path: ['text'],
  });

export const smsInputSchema = z.strictObject({
  to: e164Schema,
  text: safeText({ min: 1, max: LIMITS.smsChars, multiline: true }),
});

export const pushInputSchema = z.strictObject({
  deviceToken: deviceTokenSchema,
  title: safeText({ min: 1, max: LIMITS.pushTitle }),
  body: safeText({ min: 1, max: LIMITS.pushBody, multiline: true }),
  data: z.record(safeText({ max: 64 }), safeText({ max: 1024, multiline: true })).optional(),
});

export type EmailInput = z.infer<typeof emailInputSchema>;
export type SmsInput = z.infer<typeof smsInputSchema>;
export type PushInput = z.infer<typeof pushInputSchema>;
export type NotificationInput =
  | ({ channel: 'email' } & EmailInput)
  | ({ channel: 'sms' } & SmsInput)
  | ({ channel: 'push' } & PushInput);

/** What goes on the wire (AMQP body, JSON); `id` is also the AMQP messageId. */
export type NotificationContent =
  | { to: string; subject: string; text?: string; html?: string }
  | { to: string; text: string }
  | { deviceToken: string; title: string; body: string; data?: Record<string, string> };

export interface NotificationMessage {
  schemaVersion: typeof MESSAGE_SCHEMA_VERSION;
  id: string;
  channel: Channel;
  correlationId: string;
  createdAt: string;
  template?: string;
  content: NotificationContent;
}

export const STATUSES = [
  'accepted',
  'queued',
  'sent',
  'delivered',
  'failed',
  'bounced',
  'dead_lettered',
] as const;
export type NotificationStatusWord = (typeof STATUSES)[number];

/** A delivery report from the notification service (queue `notification_status`). */
export const statusReportSchema = z.object({
  schemaVersion: z.literal(1),
  // The same rule as the API's strings: a NUL here would fail the store on every redelivery (requeued
  // forever); refused, the report goes to the DLQ as unparseable.
  notificationId: safeText({ min: 1, max: 100 }),
  status: z.enum(['sent', 'delivered', 'failed', 'bounced', 'dead_lettered', 'retrying']),
  at: z.iso.datetime({ offset: true }),
  attempt: z.number().int().min(1).max(1000),
  provider: safeText({ max: 100 }).optional(),
  providerMessageId: safeText({ max: 200 }).optional(),
  reason: safeText({ max: 500, multiline: true }).optional(),
});
export type StatusReport = z.infer<typeof statusReportSchema>;

export const notificationStatusSchema = z.object({
  id: z.string(),
  channel: z.enum(CHANNELS),
  status: z.enum(STATUSES),
  recipient: z.string().describe('The recipient, masked.'),
  template: z.string().nullable(),
  correlationId: z.string().nullable(),
  attempts: z.number().int(),
  provider: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  reason: z.string().nullable().describe("The provider's reason for the last failure, bounce or retry."),
  timestamps: z
    .partialRecord(z.enum(STATUSES), z.string())
    .describe('When each lifecycle status was reached (ISO 8601).'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type NotificationStatus = z.infer<typeof notificationStatusSchema>;
