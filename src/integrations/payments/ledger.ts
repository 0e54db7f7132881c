import { newId } from '../../kernel/ids/index.js';
import type { Queryable, Store } from '../../kernel/store/index.js';
import { rowWhere } from './ledger-rows.js';
import { announcePaymentSucceeded, announceRefundSucceeded } from './side-effects.js';
import type { Page, Payment, PaymentStatus, ProviderCharge, ProviderRefund, Refund } from './types.js';

export const newPaymentId = () => newId('pay');
export const newRefundId = () => newId('re');

/** Forward-only: an older or duplicate event never moves a payment back (out-of-order webhooks). */
const RANK: Record<PaymentStatus, number> = {
  processing: 0,
  unknown: 0,
  pending: 1,
  succeeded: 2,
  failed: 2,
};

interface PaymentRow {
  id: string;
  provider_idempotency_key: string;
  request_hash: string;
  customer_id: string;
  amount: string | number;
  currency: string;
  payment_method: string;
  description: string | null;
  metadata: Record<string, string>;
  receipt_email: string | null;
  status: PaymentStatus;
  provider_charge_id: string | null;
  amount_refunded: string | number;
  failure_code: string | null;
  decline_code: string | null;
  failure_message: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

interface RefundRow {
  id: string;
  payment_id: string;
  provider_idempotency_key: string;
  request_hash: string;
  amount: string | number | null;
  currency: string;
  reason: string | null;
  status: PaymentStatus;
  provider_refund_id: string | null;
  failure_reason: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (d: Date | string) => new Date(d).toISOString();

export function toPayment(r: PaymentRow): Payment {
  return {
    id: r.id,
    status: r.status,
    amount: Number(r.amount),
    currency: r.currency,
    customerId: r.customer_id,
    paymentMethod: r.payment_method,
    description: r.description,
    metadata: r.metadata ?? {},
    receiptEmail: r.receipt_email,
    amountRefunded: Number(r.amount_refunded),
    providerChargeId: r.provider_charge_id,
    failure:
      r.failure_code || r.failure_message
        ? { code: r.failure_code, declineCode: r.decline_code, message: r.failure_message }
        : null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function toRefund(r: RefundRow): Refund {
  return {
    id: r.id,
    paymentId: r.payment_id,
    status: r.status,
    amount: r.amount === null ? null : Number(r.amount),
    currency: r.currency,
    reason: r.reason,
    providerRefundId: r.provider_refund_id,
    failureReason: r.failure_reason,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export interface NewPayment {
  providerIdempotencyKey: string;
  requestHash: string;
  customerId: string;
  amount: number;
  currency: string;
  paymentMethod: string;
  description?: string | undefined;
  metadata?: Record<string, string> | undefined;
  receiptEmail?: string | undefined;
  createdBy?: string | undefined;
}

/**
 * The local ledger of payments and refunds. Rows are written BEFORE the processor is called (status
 * `processing`, with the provider idempotency key), then moved forward by answers, reconciliation and
 * webhooks; a move into `succeeded` writes the receipt and metric outbox rows in the same transaction.
 */
export class PaymentLedger {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Inserts the payment, or returns the existing one with the same provider key (`created: false`). */
  async beginPayment(p: NewPayment): Promise<{ payment: Payment; created: boolean; requestHash: string }> {
    const id = newPaymentId();
    const at = this.now();
    const ins = await this.store.query<PaymentRow>(
      `INSERT INTO payments (id, provider_idempotency_key, request_hash, customer_id, amount, currency, payment_method, description, metadata, receipt_email, status, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, 'processing', $11, $12, $12)
       ON CONFLICT (provider_idempotency_key) DO NOTHING RETURNING *`,
      [
        id,
        p.providerIdempotencyKey,
        p.requestHash,
        p.customerId,
        p.amount,
        p.currency,
        p.paymentMethod,
        p.description ?? null,
        JSON.stringify(p.metadata ?? {}),
        p.receiptEmail ?? null,
        p.createdBy ?? null,
        at,
      ],
    );
    if (ins.rows[0]) return { payment: toPayment(ins.rows[0]), created: true, requestHash: p.requestHash };
    const row = (await rowWhere<PaymentRow>(
      this.store,
      'payments',
      'provider_idempotency_key',
      p.providerIdempotencyKey,
    ))!;
    return { payment: toPayment(row), created: false, requestHash: row.request_hash };
  }

  async getPayment(id: string): Promise<Payment | undefined> {
    const row = await rowWhere<PaymentRow>(this.store, 'payments', 'id', id);
    return row && toPayment(row);
  }

  async paymentKey(id: string): Promise<string | undefined> {
    return (await rowWhere<PaymentRow>(this.store, 'payments', 'id', id))?.provider_idempotency_key;
  }

  async listPayments(q: {
    limit: number;
    cursor?: string | undefined;
    customerId?: string | undefined;
  }): Promise<Page<Payment>> {
    const params: unknown[] = [q.limit + 1];
    const where: string[] = [];
    if (q.cursor) where.push(`id < $${params.push(q.cursor)}`);
    if (q.customerId) where.push(`customer_id = $${params.push(q.customerId)}`);
    const { rows } = await this.store.query<PaymentRow>(
      `SELECT * FROM payments ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $1`,
      params,
    );
    const data = rows.slice(0, q.limit).map(toPayment);
    return { data, nextCursor: rows.length > q.limit ? (data.at(-1)?.id ?? null) : null };
  }

  /**
   * Applies what the processor says about the charge (answer, reconciliation or webhook). Forward-only;
   * the move into `succeeded` announces the payment in the same transaction. Returns the new state.
   */
  async applyCharge(paymentId: string, charge: ProviderCharge): Promise<Payment> {
    return this.store.transaction(async (tx) => {
      const row = await lockPayment(tx, paymentId);
      const next = charge.status;
      if (RANK[next] < RANK[row.status] || (RANK[row.status] === 2 && row.status !== next)) {
        if (!row.provider_charge_id)
          await tx.query('UPDATE payments SET provider_charge_id = $2 WHERE id = $1', [paymentId, charge.id]);
        return toPayment({ ...row, provider_charge_id: row.provider_charge_id ?? charge.id });
      }
      const at = this.now();
      const { rows } = await tx.query<PaymentRow>(
        `UPDATE payments SET status = $2, provider_charge_id = $3, failure_code = $4, decline_code = $5, failure_message = $6, updated_at = $7
         WHERE id = $1 RETURNING *`,
        [
          paymentId,
          next,
          charge.id,
          charge.failure_code,
          charge.outcome?.decline_code ?? null,
          charge.failure_message,
          at,
        ],
      );
      const updated = rows[0]!;
      if (next === 'succeeded' && row.status !== 'succeeded') {
        await announcePaymentSucceeded(
          tx,
          { id: row.id, amount: Number(row.amount), currency: row.currency, receiptEmail: row.receipt_email },
          at,
        );
      }
      return toPayment(updated);
    });
  }

  /** Marks a payment that never got a charge (provider refused it) or whose outcome is still open. */
  async markPayment(
    paymentId: string,
    status: 'failed' | 'unknown',
    failure?: { code: string; message: string },
  ): Promise<Payment> {
    const { rows } = await this.store.query<PaymentRow>(
      `UPDATE payments SET status = $2, failure_code = COALESCE($3, failure_code), failure_message = COALESCE($4, failure_message), updated_at = $5, attempts = attempts + 1
       WHERE id = $1 AND status IN ('processing', 'unknown') RETURNING *`,
      [paymentId, status, failure?.code ?? null, failure?.message ?? null, this.now()],
    );
    return rows[0] ? toPayment(rows[0]) : (await this.getPayment(paymentId))!;
  }

  /** Payments whose outcome is still open and that nobody touched for `olderThanSeconds`. */
  async unresolvedPayments(olderThanSeconds: number, limit = 100): Promise<string[]> {
    const before = new Date(this.now().getTime() - olderThanSeconds * 1000);
    const { rows } = await this.store.query<{ id: string }>(
      "SELECT id FROM payments WHERE status IN ('processing', 'unknown') AND updated_at <= $2 ORDER BY updated_at LIMIT $1",
      [limit, before],
    );
    return rows.map((r) => r.id);
  }

  async beginRefund(r: {
    paymentId: string;
    providerIdempotencyKey: string;
    requestHash: string;
    amount: number | undefined;
    currency: string;
    reason: string | undefined;
    createdBy?: string | undefined;
  }): Promise<{ refund: Refund; created: boolean; requestHash: string }> {
    const at = this.now();
    const ins = await this.store.query<RefundRow>(
      `INSERT INTO payment_refunds (id, payment_id, provider_idempotency_key, request_hash, amount, currency, reason, status, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'processing', $8, $9, $9)
       ON CONFLICT (provider_idempotency_key) DO NOTHING RETURNING *`,
      [
        newRefundId(),
        r.paymentId,
        r.providerIdempotencyKey,
        r.requestHash,
        r.amount ?? null,
        r.currency,
        r.reason ?? null,
        r.createdBy ?? null,
        at,
      ],
    );
    if (ins.rows[0]) return { refund: toRefund(ins.rows[0]), created: true, requestHash: r.requestHash };
    const row = (await rowWhere<RefundRow>(
      this.store,
      'payment_refunds',
      'provider_idempotency_key',
      r.providerIdempotencyKey,
    ))!;
    return { refund: toRefund(row), created: false, requestHash: row.request_hash };
  }

  async getRefund(id: string): Promise<Refund | undefined> {
    const row = await rowWhere<RefundRow>(this.store, 'payment_refunds', 'id', id);
    return row && toRefund(row);
  }

  async refundKey(id: string): Promise<string | undefined> {
    return (await rowWhere<RefundRow>(this.store, 'payment_refunds', 'id', id))?.provider_idempotency_key;
  }

  async listRefunds(paymentId: string): Promise<Refund[]> {
    const { rows } = await this.store.query<RefundRow>(
      'SELECT * FROM payment_refunds WHERE payment_id = $1 ORDER BY id',
      [paymentId],
    );
    return rows.map(toRefund);
  }

  /**
   * Applies the processor's refund. Forward-only, except `succeeded → failed` (asynchronous refund failure).
   * The payment's `amount_refunded` is the sum of its pending and succeeded refunds.
   */
  async applyRefund(refundId: string, pr: ProviderRefund): Promise<Refund> {
    return this.store.transaction(async (tx) => {
      const { rows: cur } = await tx.query<RefundRow>(
        'SELECT * FROM payment_refunds WHERE id = $1 FOR UPDATE',
        [refundId],
      );
      const row = cur[0];
      if (!row) throw new RangeError(`no refund ${refundId}`);
      const asyncFailure = row.status === 'succeeded' && pr.status === 'failed';
      if (
        !asyncFailure &&
        (RANK[pr.status] < RANK[row.status] || (RANK[row.status] === 2 && row.status !== pr.status))
      )
        return toRefund(row);
      const payment = await lockPayment(tx, row.payment_id);
      const at = this.now();
      const { rows } = await tx.query<RefundRow>(
        'UPDATE payment_refunds SET status = $2, provider_refund_id = $3, amount = $4, failure_reason = $5, updated_at = $6 WHERE id = $1 RETURNING *',
        [refundId, pr.status, pr.id, pr.amount, pr.failure_reason, at],
      );
      await tx.query(
        `UPDATE payments SET amount_refunded = (SELECT COALESCE(SUM(amount), 0) FROM payment_refunds WHERE payment_id = $1 AND status IN ('pending', 'succeeded')), updated_at = $2 WHERE id = $1`,
        [row.payment_id, at],
      );
      if (pr.status === 'succeeded' && row.status !== 'succeeded') {
        await announceRefundSucceeded(
          tx,
          {
            id: refundId,
            paymentId: row.payment_id,
            amount: pr.amount,
            currency: row.currency,
            receiptEmail: payment.receipt_email,
          },
          at,
        );
      }
      return toRefund(rows[0]!);
    });
  }

  async markRefund(refundId: string, status: 'failed' | 'unknown', failureReason?: string): Promise<Refund> {
    const { rows } = await this.store.query<RefundRow>(
      `UPDATE payment_refunds SET status = $2, failure_reason = COALESCE($3, failure_reason), updated_at = $4 WHERE id = $1 AND status IN ('processing', 'unknown') RETURNING *`,
      [refundId, status, failureReason ?? null, this.now()],
    );
    return rows[0] ? toRefund(rows[0]) : (await this.getRefund(refundId))!;
  }

  async findRefundByProviderId(providerRefundId: string): Promise<string | undefined> {
    return (await rowWhere<RefundRow>(this.store, 'payment_refunds', 'provider_refund_id', providerRefundId))
      ?.id;
  }

  async findPaymentByChargeId(chargeId: string): Promise<string | undefined> {
    return (await rowWhere<PaymentRow>(this.store, 'payments', 'provider_charge_id', chargeId))?.id;
  }
}

async function lockPayment(tx: Queryable, id: string): Promise<PaymentRow> {
  const { rows } = await tx.query<PaymentRow>('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [id]);
  if (!rows[0]) throw new RangeError(`no payment ${id}`);
  return rows[0];
}
