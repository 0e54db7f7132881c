import { ApiError, notFound } from './api-error.js';
import type { PaymentsEngine } from './engine.js';
import {
  addInterval,
  type Invoice,
  newId,
  type Price,
  type Subscription,
  type SubscriptionStatus,
} from './model.js';

export interface BillingOptions {
  /** Dunning: sandbox-clock seconds after the failed renewal for each retry (Stripe smart-retry-like). */
  retryScheduleSeconds: number[];
  /** Where a subscription goes when the last retry fails. */
  finalStatus: 'unpaid' | 'canceled';
  /** An `incomplete` subscription whose first invoice is not paid within this expires. */
  incompleteExpirySeconds: number;
}

export const DEFAULT_BILLING: BillingOptions = {
  retryScheduleSeconds: [1, 3, 5].map((d) => d * 86_400),
  finalStatus: 'unpaid',
  incompleteExpirySeconds: 23 * 3600,
};

export interface CreateSubscriptionParams {
  customer: string;
  price: string;
  payment_method: string;
  trial_period_days?: number;
  metadata?: Record<string, string>;
}

/**
 * The subscription status machine (reference §5.3), driven by the sandbox clock:
 * incomplete → active | incomplete_expired; trialing → active | past_due; active → past_due → active |
 * unpaid | canceled; any → canceled (at once, or at period end).
 */
export class BillingEngine {
  private readonly jobs = new Map<string, number[]>();

  constructor(
    private readonly engine: PaymentsEngine,
    private readonly opts: BillingOptions,
  ) {}

  private get state() {
    return this.engine.state;
  }
  private get clock() {
    return this.engine.clock;
  }

  getPrice(id: string): Price {
    const p = this.state.prices.get(id);
    if (!p)
      throw new ApiError(400, 'invalid_request_error', 'resource_missing', `No such price: '${id}'`, {
        param: 'price',
      });
    return p;
  }

  async create(p: CreateSubscriptionParams): Promise<Subscription> {
    const price = this.getPrice(p.price);
    this.engine.checkPaymentMethod(p.payment_method);
    const now = this.clock.nowSeconds();
    const trialDays = p.trial_period_days ?? 0;
    const sub: Subscription = {
      id: newId('sub'),
      object: 'subscription',
      customer: p.customer,
      price,
      payment_method: p.payment_method,
      status: 'incomplete',
      current_period_start: now,
      current_period_end:
        trialDays > 0
          ? now + trialDays * 86_400
          : addInterval(now, price.recurring.interval, price.recurring.interval_count),
      trial_end: trialDays > 0 ? now + trialDays * 86_400 : null,
      cancel_at_period_end: false,
      canceled_at: null,
      ended_at: null,
      latest_invoice: null,
      metadata: p.metadata ?? {},
      created: now,
    };
    this.state.subscriptions.set(sub.id, sub);
    if (trialDays > 0) {
      sub.status = 'trialing';
      this.engine.emit('customer.subscription.created', sub);
      this.scheduleRenewal(sub);
      return sub;
    }
    const paid = await this.collect(sub, this.newInvoice(sub));
    sub.status = paid ? 'active' : 'incomplete';
    this.engine.emit('customer.subscription.created', sub);
    if (paid) this.scheduleRenewal(sub);
    else this.scheduleExpiry(sub);
    return sub;
  }

  /**
   * After a restart on saved records: re-arms every live subscription's clock jobs from its fields — the
   * renewal at `current_period_end`, the pending dunning retry at the invoice's `next_payment_attempt`, the
   * expiry of an `incomplete` one.
   */
  resume(): void {
    for (const sub of this.state.subscriptions.values()) {
      switch (sub.status) {
        case 'incomplete':
          this.scheduleExpiry(sub);
          break;
        case 'past_due': {
          this.scheduleRenewal(sub);
          const inv = sub.latest_invoice ? this.state.invoices.get(sub.latest_invoice) : undefined;
          // attempt_count counts the renewal's own attempt, so the next retry is number attempt_count - 1.
          if (inv?.status === 'open' && inv.next_payment_attempt !== null)
            this.armRetry(sub, inv, inv.attempt_count - 1, inv.next_payment_attempt);
          break;
        }
        case 'trialing':
        case 'active':
        case 'unpaid':
          this.scheduleRenewal(sub);
          break;
        default:
          break;
      }
    }
  }

  get(id: string): Subscription {
    const s = this.state.subscriptions.get(id);
    if (!s) throw notFound('subscription', id);
    return s;
  }

  /** Cancels at once (`customer.subscription.deleted`) or at the end of the period. */
  cancel(id: string, atPeriodEnd: boolean): Subscription {
    const sub = this.get(id);
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return sub;
    if (atPeriodEnd) {
      sub.cancel_at_period_end = true;
      this.engine.emit('customer.subscription.updated', sub);
      return sub;
    }
    this.end(sub);
    return sub;
  }

  /** Changes the payment method (e.g. to recover from past_due); the next retry uses it. */
  update(
    id: string,
    p: { payment_method?: string; cancel_at_period_end?: boolean; metadata?: Record<string, string> },
  ): Subscription {
    const sub = this.get(id);
    if (p.payment_method) {
      this.engine.checkPaymentMethod(p.payment_method);
      sub.payment_method = p.payment_method;
    }
    if (p.cancel_at_period_end !== undefined) sub.cancel_at_period_end = p.cancel_at_period_end;
    if (p.metadata) sub.metadata = { ...sub.metadata, ...p.metadata };
    this.engine.emit('customer.subscription.updated', sub);
    return sub;
  }

  private end(sub: Subscription): void {
    for (const j of this.jobs.get(sub.id) ?? []) this.clock.cancel(j);
    this.jobs.delete(sub.id);
    sub.status = 'canceled';
    sub.canceled_at = sub.canceled_at ?? this.clock.nowSeconds();
    sub.ended_at = this.clock.nowSeconds();
    this.engine.emit('customer.subscription.deleted', sub);
  }

  private transition(sub: Subscription, to: SubscriptionStatus): void {
    if (sub.status === to) return;
    sub.status = to;
    this.engine.emit('customer.subscription.updated', sub);
  }

  private newInvoice(sub: Subscription): Invoice {
    const inv: Invoice = {
      id: newId('in'),
      object: 'invoice',
      subscription: sub.id,
      customer: sub.customer,
      amount_due: sub.price.unit_amount,
      currency: sub.price.currency,
      status: 'open',
      attempt_count: 0,
      charge: null,
      period_start: sub.current_period_start,
      period_end: sub.current_period_end,
      next_payment_attempt: null,
      created: this.clock.nowSeconds(),
    };
    this.state.invoices.set(inv.id, inv);
    sub.latest_invoice = inv.id;
    return inv;
  }

  /** One payment attempt for an invoice; emits invoice.paid or invoice.payment_failed. */
  private async collect(sub: Subscription, inv: Invoice): Promise<boolean> {
    inv.attempt_count++;
    try {
      const charge = await this.engine.createCharge(
        {
          amount: inv.amount_due,
          currency: inv.currency,
          customer: sub.customer,
          payment_method: sub.payment_method,
          metadata: { subscription: sub.id },
        },
        inv.id,
      );
      inv.charge = charge.id;
      inv.status = 'paid';
      inv.next_payment_attempt = null;
      this.engine.emit('invoice.paid', inv);
      return true;
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const failed = err.extra.charge;
      if (typeof failed === 'string') inv.charge = failed;
      this.engine.emit('invoice.payment_failed', inv);
      return false;
    }
  }

  private scheduleExpiry(sub: Subscription): void {
    this.at(sub, sub.created + this.opts.incompleteExpirySeconds, 'incomplete-expiry', () => {
      if (sub.status !== 'incomplete') return;
      const inv = sub.latest_invoice ? this.state.invoices.get(sub.latest_invoice) : undefined;
      if (inv) inv.status = 'void';
      this.transition(sub, 'incomplete_expired');
      sub.ended_at = this.clock.nowSeconds();
    });
  }

  private scheduleRenewal(sub: Subscription): void {
    this.at(sub, sub.current_period_end, 'renewal', () => this.renew(sub));
  }

  private async renew(sub: Subscription): Promise<void> {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return;
    if (sub.cancel_at_period_end) {
      this.end(sub);
      return;
    }
    const start = sub.current_period_end;
    sub.current_period_start = start;
    sub.current_period_end = addInterval(
      start,
      sub.price.recurring.interval,
      sub.price.recurring.interval_count,
    );
    this.scheduleRenewal(sub);
    const inv = this.newInvoice(sub);
    if (sub.status === 'unpaid') {
      // Unpaid: invoices are created but closed at once; no further attempts (Stripe semantics).
      inv.status = 'uncollectible';
      this.engine.emit('customer.subscription.updated', sub);
      return;
    }
    const paid = await this.collect(sub, inv);
    if (paid) {
      sub.status = 'active';
      this.engine.emit('customer.subscription.updated', sub);
      return;
    }
    sub.status = 'past_due';
    this.engine.emit('customer.subscription.updated', sub);
    this.scheduleRetry(sub, inv, 0);
  }

  private scheduleRetry(sub: Subscription, inv: Invoice, index: number): void {
    const delay = this.opts.retryScheduleSeconds[index];
    if (delay === undefined) {
      inv.next_payment_attempt = null;
      if (this.opts.finalStatus === 'canceled') {
        inv.status = 'uncollectible';
        this.end(sub);
      } else this.transition(sub, 'unpaid');
      return;
    }
    const at = this.clock.nowSeconds() + delay;
    inv.next_payment_attempt = at;
    this.armRetry(sub, inv, index, at);
  }

  private armRetry(sub: Subscription, inv: Invoice, index: number, atSeconds: number): void {
    this.at(sub, atSeconds, 'dunning', async () => {
      if (inv.status !== 'open' || sub.status !== 'past_due') return;
      if (await this.collect(sub, inv)) this.transition(sub, 'active');
      else this.scheduleRetry(sub, inv, index + 1);
    });
  }

  private at(sub: Subscription, atSeconds: number, name: string, run: () => void | Promise<void>): void {
    const id = this.clock.schedule(atSeconds * 1000, `${name} ${sub.id}`, run);
    const list = this.jobs.get(sub.id) ?? [];
    list.push(id);
    this.jobs.set(sub.id, list);
  }

  reset(): void {
    this.jobs.clear();
  }
}
