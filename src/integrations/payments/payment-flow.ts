import { type CareBridgeError, isCareBridgeError } from '../../kernel/errors/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import type { PaymentLedger } from './ledger.js';
import type { ProcessorClient } from './processor.js';
import {
  assertSameRequest,
  isOpen,
  prepareWrite,
  sendReconciled,
  turnedAwayError,
  type WriteOptions,
} from './reconciled-write.js';
import { type PaymentRequest, paymentRequestSchema } from './schemas.js';
import type { Payment, ProviderCharge, ProviderList } from './types.js';

/**
 * Charging one payment: recorded under its processor key, sent with it (the pipeline retries with the same
 * key); when no answer comes back, the charge is looked up before deciding, and only when there is none sent
 * again with the SAME key (the processor replays instead of charging twice). After `rounds` without an
 * answer the payment is `unknown`, and reconciliation (`reconcile`) settles it later.
 */
export class PaymentFlow {
  constructor(
    private readonly client: ProcessorClient,
    private readonly ledger: PaymentLedger,
    private readonly rounds: number,
  ) {}

  /** A new payment (or the one this operation key already made): the settled payment, or its failure thrown. */
  async create(request: PaymentRequest, opts: WriteOptions): Promise<Payment> {
    const write = prepareWrite('pay', paymentRequestSchema, request, opts);
    const req = write.request;
    const begun = await this.ledger.beginPayment({
      providerIdempotencyKey: write.providerKey,
      requestHash: write.requestHash,
      customerId: req.customerId,
      amount: req.amount,
      currency: req.currency,
      paymentMethod: req.paymentMethod,
      description: req.description,
      metadata: req.metadata,
      receiptEmail: req.receiptEmail,
      createdBy: opts.actor,
    });
    assertSameRequest(begun, write, 'payment', { paymentId: begun.payment.id });
    const p = begun.payment;
    if (!isOpen(p.status)) return throwIfFailed(p);
    return throwIfFailed(await this.charge(p, write.providerKey, { lookUpFirst: !begun.created }));
  }

  /**
   * Settles an open payment: looks its charge up; if there is none, sends again with the same key. A declined
   * card is a settled payment here (`failed`), not an error. A payment that is not open comes back as is.
   */
  async reconcile(p: Payment): Promise<Payment> {
    if (!isOpen(p.status)) return p;
    const key = (await this.ledger.paymentKey(p.id))!;
    return this.charge(p, key, { lookUpFirst: true }).catch(async (err: CareBridgeError) => {
      // Declined without a charge to record: the refusal already marked the payment failed.
      if (err.code === 'PAYMENTS_CARD_DECLINED' || err.code === 'PAYMENTS_PROCESSING_ERROR')
        return (await this.ledger.getPayment(p.id))!;
      throw err;
    });
  }

  /** The charge made for this payment, found by `metadata[carebridge_payment_id]`. */
  async lookup(paymentId: string): Promise<ProviderCharge | undefined> {
    const r = await this.client.call<ProviderList<ProviderCharge>>('charges.list', {
      method: 'GET',
      path: '/api/v1/charges',
      query: { 'metadata[carebridge_payment_id]': paymentId, limit: 10 },
    });
    if (!r.ok) throw toCareBridgeError(r.answer);
    return r.body.data[0];
  }

  /**
   * A charge the processor reports (a webhook): applied to its payment, found by our id in the charge's
   * metadata or else by the charge id. Charges CareBridge did not create (e.g. subscription invoices) are
   * not in the payments ledger and are ignored.
   */
  async applyReported(charge: ProviderCharge): Promise<void> {
    const paymentId =
      charge.metadata?.carebridge_payment_id ?? (await this.ledger.findPaymentByChargeId(charge.id));
    if (!paymentId || !(await this.ledger.getPayment(paymentId))) return;
    await this.ledger.applyCharge(paymentId, charge);
  }

  /** Sends the payment `p` (open, recorded under `key`) and returns it settled; a decline is `failed`. */
  private charge(p: Payment, key: string, opts: { lookUpFirst: boolean }): Promise<Payment> {
    return sendReconciled<ProviderCharge, Payment>(
      {
        send: () =>
          this.client.call<ProviderCharge>('charges.create', {
            method: 'POST',
            path: '/api/v1/charges',
            json: {
              amount: p.amount,
              currency: p.currency.toLowerCase(),
              customer: p.customerId,
              payment_method: p.paymentMethod,
              ...(p.description ? { description: p.description } : {}),
              metadata: { ...p.metadata, carebridge_payment_id: p.id },
            },
            idempotencyKey: key,
          }),
        lookUp: () => this.lookup(p.id),
        apply: (charge) => this.ledger.applyCharge(p.id, charge),
        refused: (err) => this.refused(p, err),
        unanswered: async (lastError, turnedAway) => {
          await this.ledger.markPayment(p.id, 'unknown');
          if (turnedAway) throw turnedAwayError(turnedAway, 'payment', { paymentId: p.id });
          throw paymentErrors.outcomeUnknown(
            'The processor did not confirm the payment; it will be reconciled (GET the payment or retry with the same key).',
            {
              integration: 'payments',
              details: {
                paymentId: p.id,
                lastError: isCareBridgeError(lastError) ? lastError.code : 'unknown',
              },
              cause: lastError,
            },
          );
        },
      },
      { rounds: this.rounds, ...opts },
    );
  }

  /** A final refusal: a declined card left a failed charge (recorded as such); anything else is thrown. */
  private async refused(p: Payment, err: CareBridgeError): Promise<Payment> {
    const chargeId = err.details?.providerChargeId;
    if (typeof chargeId === 'string') {
      return this.ledger.applyCharge(p.id, {
        id: chargeId,
        amount: p.amount,
        currency: p.currency,
        status: 'failed',
        amount_refunded: 0,
        failure_code: String(err.details?.providerCode ?? 'card_declined'),
        failure_message: err.message,
        outcome: { decline_code: (err.details?.declineCode as string | undefined) ?? null },
        metadata: {},
      });
    }
    // A refused signature is ours to fix, not the payment's fate: it stays open and is retried later.
    if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED') {
      await this.ledger.markPayment(p.id, 'failed', {
        code: String(err.details?.providerCode ?? err.code),
        message: err.message,
      });
    }
    throw withPayment(namingPaymentMethod(err, p.paymentMethod), p.id);
  }
}

/** The processor does not know the caller's `pm_…` token: say which one (it is the caller's own input). */
export function namingPaymentMethod(err: CareBridgeError, token: string): CareBridgeError {
  if (err.code !== 'PAYMENTS_PAYMENT_METHOD_UNKNOWN') return err;
  return paymentErrors.paymentMethodUnknown(`The processor knows no payment method ${token}.`, {
    integration: 'payments',
    details: { ...err.details, field: 'paymentMethod', paymentMethod: token },
    cause: err,
  });
}

function withPayment(err: CareBridgeError, paymentId: string): CareBridgeError {
  (err as { details: Record<string, unknown> | undefined }).details = { ...(err.details ?? {}), paymentId };
  return err;
}

const CARD_CODES = new Set([
  'card_declined',
  'expired_card',
  'incorrect_cvc',
  'processing_error',
  'incorrect_number',
]);

/**
 * Returns the payment unless it failed; a failed payment is thrown as the error its caller sees, carrying
 * the payment id and the decline code (PAYMENTS_CARD_DECLINED, PAYMENTS_PROCESSING_ERROR, or
 * PAYMENTS_INVALID_REQUEST for a refusal that was not the card's).
 */
export function throwIfFailed(p: Payment): Payment {
  if (p.status !== 'failed') return p;
  const details = {
    paymentId: p.id,
    providerCode: p.failure?.code ?? null,
    declineCode: p.failure?.declineCode ?? null,
  };
  // A charge names one object of the processor's, its payment method: the one `resource_missing` can mean.
  if (p.failure?.code === 'resource_missing') {
    throw paymentErrors.paymentMethodUnknown(`The processor knows no payment method ${p.paymentMethod}.`, {
      integration: 'payments',
      details: { ...details, field: 'paymentMethod', paymentMethod: p.paymentMethod },
    });
  }
  if (!p.failure?.declineCode && !CARD_CODES.has(p.failure?.code ?? '')) {
    throw paymentErrors.invalidRequest(
      `The processor refused the payment (${p.failure?.code ?? 'invalid'}).`,
      { integration: 'payments', details },
    );
  }
  if (p.failure?.code === 'processing_error')
    throw paymentErrors.processingError('The card could not be processed; try again as a new payment.', {
      integration: 'payments',
      details,
    });
  throw paymentErrors.cardDeclined(
    `The card was declined (${p.failure?.declineCode ?? p.failure?.code ?? 'declined'}).`,
    { integration: 'payments', details },
  );
}
