import type { Queryable } from '../../kernel/store/index.js';
import { enqueue } from '../../kernel/store/index.js';
import { enqueueNotification } from '../notifications/index.js';

/**
 * What a succeeded payment or refund announces, written in the SAME transaction as the ledger update:
 * a receipt e-mail (through the notifications integration's ledger + outbox, only when the payment has a
 * `receiptEmail`) and a business metric row for `kafka:business_metrics` (it waits in the outbox until the
 * analytics transport is registered).
 */
export const BUSINESS_METRICS_DESTINATION = 'kafka:business_metrics';

export interface BusinessMetric {
  name: string;
  value: number;
  unit: string;
  currency: string;
  occurredAt: string;
  attributes: Record<string, string>;
}

/** `1250, 'USD'` → `12.50`; zero-decimal currencies (JPY) stay whole. */
export function formatMinor(amount: number, currency: string): string {
  const digits =
    new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
    2;
  return (amount / 10 ** digits).toFixed(digits);
}

export async function announcePaymentSucceeded(
  tx: Queryable,
  p: { id: string; amount: number; currency: string; receiptEmail: string | null },
  at: Date,
): Promise<void> {
  if (p.receiptEmail) {
    await enqueueNotification(
      tx,
      {
        channel: 'email',
        to: p.receiptEmail,
        subject: 'Your payment receipt',
        template: 'payment_receipt',
        variables: { amount: formatMinor(p.amount, p.currency), currency: p.currency, paymentId: p.id },
      },
      { id: `ntf_receipt_${p.id}`, correlationId: p.id, now: at },
    );
  }
  await enqueueMetric(tx, p.id, {
    name: 'payment_succeeded',
    value: p.amount,
    unit: 'minor_units',
    currency: p.currency,
    occurredAt: at.toISOString(),
    attributes: { paymentId: p.id, integration: 'payments' },
  });
}

export async function announceRefundSucceeded(
  tx: Queryable,
  r: { id: string; paymentId: string; amount: number; currency: string; receiptEmail: string | null },
  at: Date,
): Promise<void> {
  if (r.receiptEmail) {
    await enqueueNotification(
      tx,
      {
        channel: 'email',
        to: r.receiptEmail,
        subject: 'Your refund',
        template: 'refund_issued',
        variables: {
          amount: formatMinor(r.amount, r.currency),
          currency: r.currency,
          paymentId: r.paymentId,
        },
      },
      { id: `ntf_refund_${r.id}`, correlationId: r.paymentId, now: at },
    );
  }
  await enqueueMetric(tx, r.paymentId, {
    name: 'refund_succeeded',
    value: r.amount,
    unit: 'minor_units',
    currency: r.currency,
    occurredAt: at.toISOString(),
    attributes: { paymentId: r.paymentId, refundId: r.id, integration: 'payments' },
  });
}

async function enqueueMetric(tx: Queryable, key: string, metric: BusinessMetric): Promise<void> {
  await enqueue(tx, {
    destination: BUSINESS_METRICS_DESTINATION,
    key,
    payload: metric,
    headers: { 'x-message-type': 'business_metric.v1' },
  });
}
