import { createHash } from 'node:crypto';
import { hashRequest } from '../../kernel/store/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import type { PaymentLedger } from './ledger.js';
import type { Processor } from './processor.js';
import { operationKeySchema, type RefundRequest, refundRequestSchema, validate } from './schemas.js';
import type { Payment, ProviderList, ProviderRefund, Refund } from './types.js';

const key = (operationKey: string) =>
  `cb_re_${createHash('sha256').update(operationKey).digest('hex').slice(0, 40)}`;

/**
 * Refunds: checked against the ledger before any call (what remains of the payment), recorded with their
 * provider key first, sent with that key, reconciled by metadata lookup when the answer is lost.
 */
export class RefundFlow {
  constructor(
    private readonly processor: Processor,
    private readonly ledger: PaymentLedger,
    private readonly rounds: number,
    private readonly reconcilePayment: (id: string) => Promise<Payment>,
  ) {}

  async issue(request: RefundRequest, opts: { idempotencyKey: string; actor?: string }): Promise<Refund> {
    const req = validate(refundRequestSchema, request);
    const operationKey = validate(operationKeySchema, opts.idempotencyKey);
    let payment = await this.ledger.getPayment(req.paymentId);
    if (!payment) throw paymentErrors.notFound(`No payment ${req.paymentId}.`, { integration: 'payments' });
    if (payment.status === 'processing' || payment.status === 'unknown')
      payment = await this.reconcilePayment(payment.id);
    const requestHash = hashRequest(req);
    const providerKey = key(operationKey);
    if (payment.status !== 'succeeded' || !payment.providerChargeId) {
      throw paymentErrors.notRefundable(
        `Payment ${payment.id} is ${payment.status} and cannot be refunded.`,
        {
          integration: 'payments',
          details: { paymentId: payment.id, status: payment.status },
        },
      );
    }
    const begun = await this.ledger.beginRefund({
      paymentId: payment.id,
      providerIdempotencyKey: providerKey,
      requestHash,
      amount: req.amount,
      currency: payment.currency,
      reason: req.reason,
      createdBy: opts.actor,
    });
    if (begun.requestHash !== requestHash) {
      throw paymentErrors.idempotencyConflict(
        'This idempotency key was already used for a different refund.',
        { integration: 'payments' },
      );
    }
    const r = begun.refund;
    if (r.status !== 'processing' && r.status !== 'unknown') return r;
    if (begun.created) {
      const remaining = payment.amount - payment.amountRefunded;
      const fail = async (e: Error) => {
        await this.ledger.markRefund(r.id, 'failed', 'rejected_locally');
        throw e;
      };
      if (remaining <= 0)
        await fail(
          paymentErrors.alreadyRefunded(`Payment ${payment.id} has already been refunded in full.`, {
            integration: 'payments',
          }),
        );
      if (req.amount !== undefined && req.amount > remaining) {
        await fail(
          paymentErrors.refundTooLarge(
            `The refund (${req.amount}) is larger than what remains of the payment (${remaining}).`,
            {
              integration: 'payments',
              details: { field: 'amount', remaining },
            },
          ),
        );
      }
    }
    return this.drive(r.id, payment, req, providerKey, !begun.created);
  }

  async lookup(refundId: string): Promise<ProviderRefund | undefined> {
    const res = await this.processor.call<ProviderList<ProviderRefund>>('refunds.list', {
      method: 'GET',
      path: '/api/v1/refunds',
      query: { 'metadata[carebridge_refund_id]': refundId, limit: 10 },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    return res.body.data[0];
  }

  private async drive(
    refundId: string,
    payment: Payment,
    req: RefundRequest,
    providerKey: string,
    reconcileFirst: boolean,
  ): Promise<Refund> {
    if (reconcileFirst) {
      const found = await this.lookup(refundId).catch(() => undefined);
      if (found) return this.ledger.applyRefund(refundId, found);
    }
    const body = {
      charge: payment.providerChargeId,
      ...(req.amount !== undefined ? { amount: req.amount } : {}),
      ...(req.reason ? { reason: req.reason } : {}),
      metadata: { carebridge_refund_id: refundId, carebridge_payment_id: payment.id },
    };
    let lastError: unknown;
    for (let round = 1; round <= this.rounds; round++) {
      let out: Awaited<ReturnType<Processor['call']>>;
      try {
        out = await this.processor.call<ProviderRefund>('refunds.create', {
          method: 'POST',
          path: '/api/v1/refunds',
          json: body,
          idempotencyKey: providerKey,
        });
      } catch (err) {
        lastError = err;
        const found = await this.lookup(refundId).catch(() => undefined);
        if (found) return this.ledger.applyRefund(refundId, found);
        continue;
      }
      if (out.ok) return this.ledger.applyRefund(refundId, out.body as ProviderRefund);
      const err = toCareBridgeError(out.answer);
      if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED')
        await this.ledger.markRefund(refundId, 'failed', String(err.details?.providerCode ?? err.code));
      throw err;
    }
    await this.ledger.markRefund(refundId, 'unknown');
    throw paymentErrors.outcomeUnknown(
      'The processor did not confirm the refund; retry with the same key to reconcile.',
      {
        integration: 'payments',
        details: { refundId, paymentId: payment.id },
        cause: lastError,
      },
    );
  }
}
