import { randomBytes } from 'node:crypto';

/** Objects the payments simulator keeps (Stripe-like shapes, JSON, amounts in minor units). */
export type ChargeStatus = 'pending' | 'succeeded' | 'failed';
export type RefundStatus = 'pending' | 'succeeded' | 'failed';
export type SubscriptionStatus =
  | 'incomplete'
  | 'incomplete_expired'
  | 'trialing'
  | 'active'
  | 'past_due'
  | 'unpaid'
  | 'canceled';
export type InvoiceStatus = 'open' | 'paid' | 'void' | 'uncollectible';
export type Interval = 'day' | 'week' | 'month' | 'year';

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  currency: string;
  customer: string | null;
  payment_method: string;
  description: string | null;
  metadata: Record<string, string>;
  receipt_email: string | null;
  status: ChargeStatus;
  amount_refunded: number;
  refunded: boolean;
  failure_code: string | null;
  failure_message: string | null;
  outcome: {
    type: 'authorized' | 'issuer_declined' | 'manual_review';
    decline_code: string | null;
    network_decline_code: string | null;
  };
  invoice: string | null;
  created: number;
}

export interface Refund {
  id: string;
  object: 'refund';
  charge: string;
  amount: number;
  currency: string;
  reason: string | null;
  metadata: Record<string, string>;
  status: RefundStatus;
  failure_reason: string | null;
  created: number;
}

export interface Price {
  id: string;
  object: 'price';
  nickname: string | null;
  unit_amount: number;
  currency: string;
  recurring: { interval: Interval; interval_count: number };
  created: number;
}

export interface Invoice {
  id: string;
  object: 'invoice';
  subscription: string;
  customer: string;
  amount_due: number;
  currency: string;
  status: InvoiceStatus;
  attempt_count: number;
  charge: string | null;
  period_start: number;
  period_end: number;
  next_payment_attempt: number | null;
  created: number;
}

export interface Subscription {
  id: string;
  object: 'subscription';
  customer: string;
  price: Price;
  payment_method: string;
  status: SubscriptionStatus;
  current_period_start: number;
  current_period_end: number;
  trial_end: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  ended_at: number | null;
  latest_invoice: string | null;
  metadata: Record<string, string>;
  created: number;
}

export interface SandboxEvent {
  id: string;
  object: 'event';
  type: string;
  created: number;
  data: { object: unknown };
}

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('hex')}`;
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/**
 * Cursor pagination, Stripe-style: newest first, `limit` (1–100, default 10), `starting_after` /
 * `ending_before` an object id from the previous page.
 */
export function paginate<T extends { id: string }>(
  newestFirst: T[],
  url: string,
  q: { limit?: number; starting_after?: string; ending_before?: string },
): ListPage<T> | { error: string } {
  const limit = q.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return { error: 'limit must be an integer from 1 to 100' };
  let items = newestFirst;
  if (q.starting_after) {
    const i = items.findIndex((x) => x.id === q.starting_after);
    if (i < 0) return { error: `starting_after: no such object '${q.starting_after}'` };
    items = items.slice(i + 1);
    return { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url };
  }
  if (q.ending_before) {
    const i = items.findIndex((x) => x.id === q.ending_before);
    if (i < 0) return { error: `ending_before: no such object '${q.ending_before}'` };
    items = items.slice(0, i);
    return { object: 'list', data: items.slice(-limit), has_more: items.length > limit, url };
  }
  return { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url };
}

/**
 * A Map that keeps at most `max` entries: adding one more forgets the oldest entry `evictable` allows (one still
 * in play — a pending charge, a live subscription, an open invoice — is skipped, so the map may exceed `max`
 * while those last). A forgotten object answers 404 like one that never existed.
 */
export class BoundedMap<V> extends Map<string, V> {
  constructor(
    readonly max: number,
    private readonly evictable: (v: V) => boolean = () => true,
  ) {
    super();
  }

  override set(key: string, value: V): this {
    super.set(key, value);
    if (this.size > this.max) {
      for (const [k, v] of this) {
        if (k !== key && this.evictable(v)) {
          this.delete(k);
          break;
        }
      }
    }
    return this;
  }
}

/** Objects of each kind the simulator keeps by default (the newest; documented in docs/integrations/payments.md). */
export const DEFAULT_MAX_OBJECTS = 10_000;

/** The records as saved under the data directory (arrays oldest first). */
export interface PaymentsSnapshot {
  charges: Charge[];
  refunds: Refund[];
  prices: Price[];
  subscriptions: Subscription[];
  invoices: Invoice[];
  events: SandboxEvent[];
}

/** The simulator's records, in memory and bounded; insertion order is creation order. */
export class PaymentsState {
  readonly charges: BoundedMap<Charge>;
  readonly refunds: BoundedMap<Refund>;
  readonly prices: BoundedMap<Price>;
  readonly subscriptions: BoundedMap<Subscription>;
  readonly invoices: BoundedMap<Invoice>;
  readonly events: BoundedMap<SandboxEvent>;

  /** `pinnedPrices`: ids never forgotten (the seeded prices). */
  constructor(maxObjects = DEFAULT_MAX_OBJECTS, pinnedPrices: ReadonlySet<string> = new Set()) {
    if (!Number.isInteger(maxObjects) || maxObjects < 1)
      throw new RangeError('maxObjects must be a positive integer');
    this.charges = new BoundedMap(maxObjects, (c) => c.status !== 'pending');
    this.refunds = new BoundedMap(maxObjects, (r) => r.status !== 'pending');
    this.prices = new BoundedMap(maxObjects, (p) => !pinnedPrices.has(p.id));
    this.subscriptions = new BoundedMap(
      maxObjects,
      (s) => s.status === 'canceled' || s.status === 'incomplete_expired',
    );
    this.invoices = new BoundedMap(maxObjects, (i) => i.status !== 'open');
    this.events = new BoundedMap(maxObjects);
  }

  snapshot(): PaymentsSnapshot {
    return {
      charges: [...this.charges.values()],
      refunds: [...this.refunds.values()],
      prices: [...this.prices.values()],
      subscriptions: [...this.subscriptions.values()],
      invoices: [...this.invoices.values()],
      events: [...this.events.values()],
    };
  }

  /** Replaces every record with saved ones (clock jobs are re-armed by the engines' `resume`). */
  restore(s: PaymentsSnapshot): void {
    this.clear();
    for (const c of s.charges) this.charges.set(c.id, c);
    for (const r of s.refunds) this.refunds.set(r.id, r);
    for (const p of s.prices) this.prices.set(p.id, p);
    for (const x of s.subscriptions) this.subscriptions.set(x.id, x);
    for (const i of s.invoices) this.invoices.set(i.id, i);
    for (const e of s.events) this.events.set(e.id, e);
  }

  clear(): void {
    this.charges.clear();
    this.refunds.clear();
    this.prices.clear();
    this.subscriptions.clear();
    this.invoices.clear();
    this.events.clear();
  }

  newestFirst<T>(m: Map<string, T>): T[] {
    return [...m.values()].reverse();
  }
}

export const INTERVAL_SECONDS: Record<Interval, number> = {
  day: 86_400,
  week: 7 * 86_400,
  month: 30 * 86_400,
  year: 365 * 86_400,
};

/** Period arithmetic in whole seconds; months are calendar months (UTC), like Stripe's billing anchor. */
export function addInterval(startSeconds: number, interval: Interval, count: number): number {
  if (interval === 'month' || interval === 'year') {
    const d = new Date(startSeconds * 1000);
    const months = interval === 'month' ? count : count * 12;
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() + months);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
    return Math.floor(d.getTime() / 1000);
  }
  return startSeconds + INTERVAL_SECONDS[interval] * count;
}
