import type { SandboxClock } from '../common/index.js';
import { ApiError, notFound } from './api-error.js';
import { findPaymentMethod, outcomeFor } from './cards.js';
import { type Charge, newId, type PaymentsState, type Refund, type SandboxEvent } from './model.js';
import type { WebhookDispatcher } from './webhooks.js';

export interface EngineOptions {
  /** Wall-time delay of `pm_card_slow` (ms). */
  slowResponseMs: number;
  /** Sandbox-clock seconds until a charge in fraud review succeeds. */
  reviewSeconds: number;
  /** Sandbox-clock seconds until a refund of `pm_card_refundFail` fails. */
  refundFailSeconds: number;
}

export interface CreateChargeParams {
  amount: number;
  currency: string;
  customer?: string;
  payment_method: string;
  description?: string;
  metadata?: Record<string, string>;
  receipt_email?: string;
}

export interface CreateRefundParams {
  charge: string;
  amount?: number;
  reason?: 'duplicate' | 'fraudulent' | 'requested_by_customer';
  metadata?: Record<string, string>;
}

/**
 * The business rules of charges and refunds. Everything runs synchronously between awaits, so the
 * over-refund check and the update are atomic (Node's event loop is the per-charge mutex).
 */
export class PaymentsEngine {
  constructor(
    readonly state: PaymentsState,
    readonly clock: SandboxClock,
    readonly webhooks: WebhookDispatcher,
    readonly opts: EngineOptions,
  ) {}

  emit(type: string, object: unknown): SandboxEvent {
    const event: SandboxEvent = {
      id: newId('evt'),
      object: 'event',
      type,
      created: this.clock.nowSeconds(),
      data: { object: structuredClone(object) },
    };
    this.state.events.set(event.id, event);
    this.webhooks.dispatch(event);
    return event;
  }

  /** Validates the payment method before anything is committed (a 400 is not stored under the key). */
  checkPaymentMethod(token: string): void {
    if (!findPaymentMethod(token)) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'resource_missing',
        `No such PaymentMethod: '${token}'`,
        {
          param: 'payment_method',
        },
      );
    }
  }

  /** Creates a charge: 200 with the charge, or a `card_error` 402 (the failed charge is kept, as Stripe does). */
  async createCharge(p: CreateChargeParams, invoice: string | null = null): Promise<Charge> {
    const pm = findPaymentMethod(p.payment_method);
    if (!pm)
      throw new ApiError(
        400,
        'invalid_request_error',
        'resource_missing',
        `No such PaymentMethod: '${p.payment_method}'`,
        { param: 'payment_method' },
      );
    const outcome = outcomeFor(pm, p.amount);
    if (outcome.kind === 'unavailable') {
      throw new ApiError(
        503,
        'api_error',
        'processor_unavailable',
        'The card processor is unavailable. Try again later.',
        {},
        false,
      );
    }
    if (outcome.kind === 'slow') await new Promise((r) => setTimeout(r, this.opts.slowResponseMs));
    const charge: Charge = {
      id: newId('ch'),
      object: 'charge',
      amount: p.amount,
      currency: p.currency.toLowerCase(),
      customer: p.customer ?? null,
      payment_method: p.payment_method,
      description: p.description ?? null,
      metadata: p.metadata ?? {},
      receipt_email: p.receipt_email ?? null,
      status: 'succeeded',
      amount_refunded: 0,
      refunded: false,
      failure_code: null,
      failure_message: null,
      outcome: { type: 'authorized', decline_code: null, network_decline_code: null },
      invoice,
      created: this.clock.nowSeconds(),
    };
    if (outcome.kind === 'decline') {
      charge.status = 'failed';
      charge.failure_code = outcome.code;
      charge.failure_message = outcome.message;
      charge.outcome = {
        type: 'issuer_declined',
        decline_code: outcome.declineCode,
        network_decline_code: outcome.networkDeclineCode ?? null,
      };
      this.state.charges.set(charge.id, charge);
      this.emit('charge.failed', charge);
      throw new ApiError(402, 'card_error', outcome.code, outcome.message, {
        decline_code: outcome.declineCode,
        ...(outcome.networkDeclineCode ? { network_decline_code: outcome.networkDeclineCode } : {}),
        charge: charge.id,
      });
    }
    if (outcome.kind === 'review') {
      charge.status = 'pending';
      charge.outcome = { type: 'manual_review', decline_code: null, network_decline_code: null };
      this.scheduleReview(charge, this.clock.nowMs() + this.opts.reviewSeconds * 1000);
      this.state.charges.set(charge.id, charge);
      this.emit('charge.pending', charge);
      return charge;
    }
    this.state.charges.set(charge.id, charge);
    this.emit('charge.succeeded', charge);
    return charge;
  }

  getCharge(id: string): Charge {
    const c = this.state.charges.get(id);
    if (!c) throw notFound('charge', id);
    return c;
  }

  createRefund(p: CreateRefundParams): Refund {
    const charge = this.getCharge(p.charge);
    if (charge.status !== 'succeeded') {
      throw new ApiError(
        400,
        'invalid_request_error',
        'charge_not_refundable',
        `Charge ${charge.id} is ${charge.status} and cannot be refunded.`,
        {
          param: 'charge',
        },
      );
    }
    const remaining = charge.amount - charge.amount_refunded;
    if (remaining <= 0) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'charge_already_refunded',
        `Charge ${charge.id} has already been refunded.`,
      );
    }
    const amount = p.amount ?? remaining;
    if (amount > remaining) {
      throw new ApiError(
        400,
        'invalid_request_error',
        'amount_too_large',
        `Refund amount (${money(amount, charge.currency)}) is greater than unrefunded amount on charge (${money(remaining, charge.currency)})`,
        { param: 'amount' },
      );
    }
    const pm = findPaymentMethod(charge.payment_method);
    const refund: Refund = {
      id: newId('re'),
      object: 'refund',
      charge: charge.id,
      amount,
      currency: charge.currency,
      reason: p.reason ?? null,
      metadata: p.metadata ?? {},
      status: pm?.refundFails ? 'pending' : 'succeeded',
      failure_reason: null,
      created: this.clock.nowSeconds(),
    };
    // Pending refunds count against the charge too: two partial refunds racing can never exceed it.
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount;
    this.state.refunds.set(refund.id, refund);
    if (refund.status === 'succeeded') {
      this.emit('refund.succeeded', refund);
      this.emit('charge.refunded', charge);
    } else {
      this.scheduleRefundFailure(refund, charge, this.clock.nowMs() + this.opts.refundFailSeconds * 1000);
    }
    return refund;
  }

  /**
   * After a restart on saved records: re-arms the clock jobs of charges still in review and refunds still
   * pending, due when they would have been (`created` + the configured delay).
   */
  resume(): void {
    for (const c of this.state.charges.values())
      if (c.status === 'pending' && c.outcome.type === 'manual_review')
        this.scheduleReview(c, (c.created + this.opts.reviewSeconds) * 1000);
    for (const r of this.state.refunds.values()) {
      const charge = this.state.charges.get(r.charge);
      if (r.status === 'pending' && charge)
        this.scheduleRefundFailure(r, charge, (r.created + this.opts.refundFailSeconds) * 1000);
    }
  }

  private scheduleReview(charge: Charge, atMs: number): void {
    this.clock.schedule(atMs, `review ${charge.id}`, () => {
      if (charge.status !== 'pending') return;
      charge.status = 'succeeded';
      charge.outcome = { type: 'authorized', decline_code: null, network_decline_code: null };
      this.emit('charge.succeeded', charge);
    });
  }

  private scheduleRefundFailure(refund: Refund, charge: Charge, atMs: number): void {
    this.clock.schedule(atMs, `refund-fail ${refund.id}`, () => {
      if (refund.status !== 'pending') return;
      refund.status = 'failed';
      refund.failure_reason = 'expired_or_canceled_card';
      charge.amount_refunded -= refund.amount;
      charge.refunded = false;
      this.emit('refund.failed', refund);
    });
  }

  getRefund(id: string): Refund {
    const r = this.state.refunds.get(id);
    if (!r) throw notFound('refund', id);
    return r;
  }
}

function money(minor: number, currency: string): string {
  const v = (minor / 100).toFixed(2);
  return currency === 'usd' ? `$${v}` : `${v} ${currency.toUpperCase()}`;
}
