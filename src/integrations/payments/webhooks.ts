import { z } from 'zod';
import { isCareBridgeError } from '../../kernel/errors/index.js';
import { opaqueToken, safeText } from '../../kernel/schemas/index.js';
import type { Store } from '../../kernel/store/index.js';
import type { Logger } from '../../kernel/telemetry/index.js';
import { verifyWebhookSignature } from '../../protocols/signing/index.js';
import { paymentErrors } from './errors.js';
import { paymentIdSchema, refundIdSchema, subscriptionIdSchema, validate } from './schemas.js';
import type { ProviderCharge, ProviderRefund } from './types.js';

export const WEBHOOK_PROVIDER = 'payments';

/**
 * What `receive` stores and `apply` looks up, checked after the signature: a signed body is still only as
 * careful as the processor, and an event id with a NUL or longer than an index row (~2.7 KB) would be a 500
 * on the insert and a retry storm. Everything else in the object passes untouched.
 */
const providerEventSchema = z.looseObject({
  id: opaqueToken(255, 'an event id'),
  type: z
    .string()
    .max(100, { error: 'expected an event type of at most 100 characters' })
    .regex(/^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$/, {
      error: 'expected an event type such as charge.succeeded',
    }),
  data: z.looseObject({
    object: z.looseObject({
      id: opaqueToken(255, 'an object id'),
      subscription: opaqueToken(255, 'a subscription id').nullish(),
      metadata: z
        .object({
          carebridge_payment_id: paymentIdSchema.optional(),
          carebridge_refund_id: refundIdSchema.optional(),
          carebridge_subscription_id: subscriptionIdSchema.optional(),
        })
        .catchall(safeText({ max: 500, multiline: true }))
        .nullish(),
    }),
  }),
});
type ProviderEvent = z.infer<typeof providerEventSchema>;

/**
 * Verifies a processor webhook on its RAW bytes (several secrets for rotation, 300 s tolerance) and
 * returns the parsed event. Throws PAYMENTS_WEBHOOK_SIGNATURE_INVALID (401) otherwise.
 */
export function verifyPaymentWebhook(
  rawBody: string | Buffer,
  signatureHeader: string | undefined,
  opts: { secrets: string[]; toleranceSeconds?: number; nowSeconds?: number },
): ProviderEvent {
  const result = verifyWebhookSignature(rawBody, signatureHeader, {
    secrets: opts.secrets,
    toleranceSeconds: opts.toleranceSeconds,
    nowSeconds: opts.nowSeconds ?? Math.floor(Date.now() / 1000),
  });
  if (!result.ok)
    throw paymentErrors.webhookSignatureInvalid(result.message, {
      integration: 'payments',
      details: { reason: result.reason },
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody);
  } catch {
    throw paymentErrors.invalidRequest('The webhook body is not JSON.', { integration: 'payments' });
  }
  // PAYMENTS_INVALID_REQUEST (400) naming the field, e.g. `id` or `data.object.id`; nothing is stored.
  return validate(providerEventSchema, parsed);
}

/** What the inbox needs of the payments integration (`PaymentIntegration` is one): narrow on purpose. */
export interface PaymentEventTarget {
  readonly webhookSecrets: string[];
  readonly webhookToleranceSeconds: number;
  applyReportedCharge(charge: ProviderCharge): Promise<void>;
  applyReportedRefund(refund: ProviderRefund): Promise<void>;
  refreshReportedSubscription(ref: {
    providerSubscriptionId: string;
    subscriptionId?: string | undefined;
  }): Promise<void>;
}

/**
 * Inbound processor events: stored once by event id (`webhook_events`, unique), acknowledged at once, then
 * applied asynchronously. Applying is order-independent: charges and refunds only move forward, and
 * subscriptions are re-read from the processor, so duplicates and reordering change nothing.
 */
export class PaymentWebhookInbox {
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly payments: PaymentEventTarget,
    private readonly logger: Logger,
  ) {}

  /** Verifies and records the event; `duplicate` when this event id was already received. */
  async receive(
    rawBody: string,
    signatureHeader: string | undefined,
  ): Promise<{ eventId: string; type: string; duplicate: boolean }> {
    const event = verifyPaymentWebhook(rawBody, signatureHeader, {
      secrets: this.payments.webhookSecrets,
      toleranceSeconds: this.payments.webhookToleranceSeconds,
    });
    const ins = await this.store.query(
      'INSERT INTO webhook_events (provider, event_id, event_type, raw_body) VALUES ($1, $2, $3, $4) ON CONFLICT (provider, event_id) DO NOTHING',
      [WEBHOOK_PROVIDER, event.id, event.type, rawBody],
    );
    return { eventId: event.id, type: event.type, duplicate: ins.rowCount === 0 };
  }

  /** Applies in the background; `idle()` waits for everything started so far. */
  schedule(eventId: string): void {
    const p = this.process(eventId)
      .catch((err) => this.logger.warn({ err, eventId }, 'payments webhook: apply failed; will retry'))
      .finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** Applies unprocessed events (crash recovery and retries of failed applies). */
  async processPending(limit = 50): Promise<number> {
    const { rows } = await this.store.query<{ event_id: string }>(
      `SELECT event_id FROM webhook_events WHERE provider = $1 AND processed_at IS NULL AND attempts < 20 ORDER BY received_at LIMIT $2`,
      [WEBHOOK_PROVIDER, limit],
    );
    for (const r of rows) await this.process(r.event_id).catch(() => undefined);
    return rows.length;
  }

  async process(eventId: string): Promise<void> {
    const { rows } = await this.store.query<{ raw_body: string; processed_at: Date | null }>(
      'SELECT raw_body, processed_at FROM webhook_events WHERE provider = $1 AND event_id = $2',
      [WEBHOOK_PROVIDER, eventId],
    );
    const row = rows[0];
    if (!row || row.processed_at) return;
    try {
      await this.apply(JSON.parse(row.raw_body) as ProviderEvent);
      await this.store.query(
        'UPDATE webhook_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE provider = $1 AND event_id = $2',
        [WEBHOOK_PROVIDER, eventId],
      );
    } catch (err) {
      const code = isCareBridgeError(err)
        ? err.code
        : err instanceof Error
          ? err.message.slice(0, 200)
          : 'error';
      await this.store.query(
        'UPDATE webhook_events SET attempts = attempts + 1, last_error = $3 WHERE provider = $1 AND event_id = $2',
        [WEBHOOK_PROVIDER, eventId, code],
      );
      throw err;
    }
  }

  private async apply(event: ProviderEvent): Promise<void> {
    const obj = event.data.object;
    if (event.type === 'charge.refunded') return; // amount_refunded follows our refunds' own events
    if (event.type.startsWith('charge.'))
      return this.payments.applyReportedCharge(obj as unknown as ProviderCharge);
    if (event.type.startsWith('refund.'))
      return this.payments.applyReportedRefund(obj as unknown as ProviderRefund);
    if (event.type.startsWith('customer.subscription.'))
      return this.payments.refreshReportedSubscription({
        providerSubscriptionId: obj.id,
        subscriptionId: obj.metadata?.carebridge_subscription_id,
      });
    if (event.type.startsWith('invoice.'))
      return this.payments.refreshReportedSubscription({
        providerSubscriptionId: String(obj.subscription ?? ''),
      });
  }
}

/** @deprecated The inbox's former name, kept while `cli/components/payments.ts` still uses it. */
export const PaymentWebhookProcessor = PaymentWebhookInbox;
export type PaymentWebhookProcessor = PaymentWebhookInbox;
