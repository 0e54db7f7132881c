import { paymentErrors, toCareBridgeError } from './errors.js';
import type { PaymentLedger } from './ledger.js';
import type { PaymentFlow } from './payment-flow.js';
import type { ProcessorClient } from './processor.js';
import {
  assertSameRequest,
  isOpen,
  prepareWrite,
  sendReconciled,
  turnedAwayError,
  type WriteOptions,
} from './reconciled-write.js';
import { type RefundRequest, refundRequestSchema } from './schemas.js';
import type { Payment, ProviderList, ProviderRefund, Refund } from './types.js';

/**
 * Refunds: checked against the ledger before any call (what remains of the payment), recorded with their
 * provider key first, sent with that key, reconciled by metadata lookup when the answer is lost.
 */
export class RefundFlow {
  constructor(
    private readonly client: ProcessorClient,
    private readonly ledger: PaymentLedger,
    private readonly payments: PaymentFlow,
    private readonly rounds: number,
  ) {}

  async issue(request: RefundRequest, opts: WriteOptions): Promise<Refund> {
    const write = prepareWrite('re', refundRequestSchema, request, opts);
    const req = write.request;
    const found = await this.ledger.getPayment(req.paymentId);
    if (!found) throw paymentErrors.notFound(`No payment ${req.paymentId}.`, { integration: 'payments' });
    const payment = await this.payments.reconcile(found);
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
      providerIdempotencyKey: write.providerKey,
      requestHash: write.requestHash,
      amount: req.amount,
      currency: payment.currency,
      reason: req.reason,
      createdBy: opts.actor,
    });
    assertSameRequest(begun, write, 'refund');
    const r = begun.refund;
    if (!isOpen(r.status)) return r;
    if (begun.created) await this.refuseBeyondRemaining(r, payment);
    return this.refund(r, payment, write.providerKey, { lookUpFirst: !begun.created });
  }

  async lookup(refundId: string): Promise<ProviderRefund | undefined> {
    const res = await this.client.call<ProviderList<ProviderRefund>>('refunds.list', {
      method: 'GET',
      path: '/api/v1/refunds',
      query: { 'metadata[carebridge_refund_id]': refundId, limit: 10 },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    return res.body.data[0];
  }

  /** A refund the processor reports (a webhook): applied to ours, found by our id or its refund id. */
  async applyReported(refund: ProviderRefund): Promise<void> {
    const refundId =
      refund.metadata?.carebridge_refund_id ?? (await this.ledger.findRefundByProviderId(refund.id));
    if (!refundId || !(await this.ledger.getRefund(refundId))) return;
    await this.ledger.applyRefund(refundId, refund);
  }

  /** Nothing (more) to refund: the new refund row is failed locally and the refusal thrown. */
  private async refuseBeyondRemaining(r: Refund, payment: Payment): Promise<void> {
    const remaining = payment.amount - payment.amountRefunded;
    const refusal =
      remaining <= 0
        ? paymentErrors.alreadyRefunded(`Payment ${payment.id} has already been refunded in full.`, {
            integration: 'payments',
          })
        : r.amount !== null && r.amount > remaining
          ? paymentErrors.refundTooLarge(
              `The refund (${r.amount}) is larger than what remains of the payment (${remaining}).`,
              {
                integration: 'payments',
                details: { field: 'amount', remaining },
              },
            )
          : undefined;
    if (!refusal) return;
    await this.ledger.markRefund(r.id, 'failed', 'rejected_locally');
    throw refusal;
  }

  /** Sends the refund `r` (open, recorded under `key`) of `payment` and returns it settled. */
  private refund(r: Refund, payment: Payment, key: string, opts: { lookUpFirst: boolean }): Promise<Refund> {
    return sendReconciled<ProviderRefund, Refund>(
      {
        send: () =>
          this.client.call<ProviderRefund>('refunds.create', {
            method: 'POST',
            path: '/api/v1/refunds',
            json: {
              charge: payment.providerChargeId,
              ...(r.amount !== null ? { amount: r.amount } : {}),
              ...(r.reason ? { reason: r.reason } : {}),
              metadata: { carebridge_refund_id: r.id, carebridge_payment_id: payment.id },
            },
            idempotencyKey: key,
          }),
        lookUp: () => this.lookup(r.id),
        apply: (found) => this.ledger.applyRefund(r.id, found),
        refused: async (err) => {
          if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED')
            await this.ledger.markRefund(r.id, 'failed', String(err.details?.providerCode ?? err.code));
          throw err;
        },
        unanswered: async (lastError, turnedAway) => {
          await this.ledger.markRefund(r.id, 'unknown');
          if (turnedAway)
            throw turnedAwayError(turnedAway, 'refund', { refundId: r.id, paymentId: payment.id });
          throw paymentErrors.outcomeUnknown(
            'The processor did not confirm the refund; retry with the same key to reconcile.',
            {
              integration: 'payments',
              details: { refundId: r.id, paymentId: payment.id },
              cause: lastError,
            },
          );
        },
      },
      { rounds: this.rounds, ...opts },
    );
  }
}
