/**
 * What a succeeded payment or refund announces, written in the SAME transaction as the ledger update: a
 * receipt e-mail through the notifications integration's public API (only when the payment has a
 * `receiptEmail`), and a business metric through the analytics contract (protocols/analytics), which waits
 * in the outbox until the analytics transport is registered.
 */
import type { Queryable } from '../../kernel/store/index.js';
import { enqueueBusinessMetric } from '../../protocols/analytics/index.js';
import { enqueueNotification } from '../notifications/index.js';

/** `1250, 'USD'` → `12.50`; zero-decimal currencies (JPY) stay whole. */
export function formatMinor(amount: number, currency: string): string {
  const digits =
    new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
    2;
  return (amount / 10 ** digits).toFixed(digits);
}

/** One succeeded money movement: what its receipt says and which metric it counts as. */
interface Announcement {
  /** The payment it belongs to: the receipt's correlation id and the metric's ordering key. */
  paymentId: string;
  amount: number;
  currency: string;
  /** Where the receipt goes; none is sent without it. */
  receiptEmail: string | null;
  receipt: { id: string; subject: string; template: string };
  metric: { name: string; attributes: Record<string, string> };
}

async function announce(tx: Queryable, a: Announcement, at: Date): Promise<void> {
  if (a.receiptEmail) {
    await enqueueNotification(
      tx,
      {
        channel: 'email',
        to: a.receiptEmail,
        subject: a.receipt.subject,
        template: a.receipt.template,
        variables: {
          amount: formatMinor(a.amount, a.currency),
          currency: a.currency,
          paymentId: a.paymentId,
        },
      },
      { id: a.receipt.id, correlationId: a.paymentId, now: at },
    );
  }
  await enqueueBusinessMetric(tx, a.paymentId, {
    name: a.metric.name,
    value: a.amount,
    unit: 'minor_units',
    currency: a.currency,
    occurredAt: at.toISOString(),
    attributes: { ...a.metric.attributes, integration: 'payments' },
  });
}

export function announcePaymentSucceeded(
  tx: Queryable,
  p: { id: string; amount: number; currency: string; receiptEmail: string | null },
  at: Date,
): Promise<void> {
  return announce(
    tx,
    {
      ...p,
      paymentId: p.id,
      receipt: { id: `ntf_receipt_${p.id}`, subject: 'Your payment receipt', template: 'payment_receipt' },
      metric: { name: 'payment_succeeded', attributes: { paymentId: p.id } },
    },
    at,
  );
}

export function announceRefundSucceeded(
  tx: Queryable,
  r: { id: string; paymentId: string; amount: number; currency: string; receiptEmail: string | null },
  at: Date,
): Promise<void> {
  return announce(
    tx,
    {
      ...r,
      receipt: { id: `ntf_refund_${r.id}`, subject: 'Your refund', template: 'refund_issued' },
      metric: { name: 'refund_succeeded', attributes: { paymentId: r.paymentId, refundId: r.id } },
    },
    at,
  );
}
