import { type CareBridgeError, isCareBridgeError } from '../../kernel/errors/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import type { PaymentLedger } from './ledger.js';
import type { Processor } from './processor.js';
import type { Payment, ProviderCharge, ProviderList } from './types.js';

/**
 * Charging one payment: send with its processor key (the pipeline retries with the same key); when no answer
 * comes back, look the charge up before deciding; only when there is none, send again with the SAME key
 * (the processor replays instead of charging twice). After `rounds` without an answer the payment is `unknown`.
 */
export class PaymentFlow {
  constructor(
    private readonly processor: Processor,
    private readonly ledger: PaymentLedger,
    private readonly rounds: number,
  ) {}

  /** The charge made for this payment, found by `metadata[carebridge_payment_id]`. */
  async lookup(paymentId: string): Promise<ProviderCharge | undefined> {
    const r = await this.processor.call<ProviderList<ProviderCharge>>('charges.list', {
      method: 'GET',
      path: '/api/v1/charges',
      query: { 'metadata[carebridge_payment_id]': paymentId, limit: 10 },
    });
    if (!r.ok) throw toCareBridgeError(r.answer);
    return r.body.data[0];
  }

  async drive(id: string, key: string, reconcileFirst: boolean): Promise<Payment> {
    const p = (await this.ledger.getPayment(id))!;
    if (reconcileFirst) {
      const found = await this.lookup(id).catch(() => undefined);
      if (found) return finalize(await this.ledger.applyCharge(id, found));
    }
    const body = {
      amount: p.amount,
      currency: p.currency.toLowerCase(),
      customer: p.customerId,
      payment_method: p.paymentMethod,
      ...(p.description ? { description: p.description } : {}),
      metadata: { ...p.metadata, carebridge_payment_id: id },
    };
    let lastError: unknown;
    for (let round = 1; round <= this.rounds; round++) {
      let outcome: Awaited<ReturnType<Processor['call']>>;
      try {
        outcome = await this.processor.call<ProviderCharge>('charges.create', {
          method: 'POST',
          path: '/api/v1/charges',
          json: body,
          idempotencyKey: key,
        });
      } catch (err) {
        // Sent (maybe) but no answer: the outcome is unknown. Look it up before deciding anything.
        lastError = err;
        const found = await this.lookup(id).catch(() => undefined);
        if (found) return finalize(await this.ledger.applyCharge(id, found));
        continue; // nothing there: resending with the same key cannot charge twice
      }
      if (outcome.ok) return finalize(await this.ledger.applyCharge(id, outcome.body as ProviderCharge));
      const err = toCareBridgeError(outcome.answer);
      const chargeId = err.details?.providerChargeId;
      if (typeof chargeId === 'string') {
        const failed = await this.ledger.applyCharge(id, {
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
        return finalize(failed);
      }
      if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED') {
        await this.ledger.markPayment(id, 'failed', {
          code: String(err.details?.providerCode ?? err.code),
          message: err.message,
        });
      }
      throw withPayment(err, id);
    }
    await this.ledger.markPayment(id, 'unknown');
    throw paymentErrors.outcomeUnknown(
      'The processor did not confirm the payment; it will be reconciled (GET the payment or retry with the same key).',
      {
        integration: 'payments',
        details: { paymentId: id, lastError: isCareBridgeError(lastError) ? lastError.code : 'unknown' },
        cause: lastError,
      },
    );
  }
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

/** Failed payments surface as errors carrying the payment id and the decline code. */
export function finalize(p: Payment): Payment {
  if (p.status !== 'failed') return p;
  const details = {
    paymentId: p.id,
    providerCode: p.failure?.code ?? null,
    declineCode: p.failure?.declineCode ?? null,
  };
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
