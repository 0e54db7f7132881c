import { newId } from '../../kernel/ids/index.js';
import type { Store } from '../../kernel/store/index.js';
import { rowWhere } from './ledger-rows.js';
import {
  type ProviderSubscription,
  SUBSCRIPTION_STATUSES,
  type Subscription,
  type SubscriptionStatus,
} from './types.js';

interface Row {
  id: string;
  provider_idempotency_key: string;
  request_hash: string;
  customer_id: string;
  price_id: string;
  payment_method: string;
  trial_period_days: number | null;
  metadata: Record<string, string>;
  status: SubscriptionStatus;
  provider_subscription_id: string | null;
  current_period_start: Date | string | null;
  current_period_end: Date | string | null;
  trial_end: Date | string | null;
  cancel_at_period_end: boolean;
  canceled_at: Date | string | null;
  latest_invoice_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
const fromUnix = (s: number | null) => (s === null ? null : new Date(s * 1000));
/** The processor's own statuses: ours minus the two that only our ledger uses. */
const PROVIDER_STATUSES = new Set<string>(
  SUBSCRIPTION_STATUSES.filter((st) => st !== 'processing' && st !== 'unknown'),
);

function toSubscription(r: Row): Subscription {
  return {
    id: r.id,
    status: r.status,
    customerId: r.customer_id,
    priceId: r.price_id,
    paymentMethod: r.payment_method,
    trialPeriodDays: r.trial_period_days,
    metadata: r.metadata ?? {},
    providerSubscriptionId: r.provider_subscription_id,
    currentPeriodStart: iso(r.current_period_start),
    currentPeriodEnd: iso(r.current_period_end),
    trialEnd: iso(r.trial_end),
    cancelAtPeriodEnd: r.cancel_at_period_end,
    canceledAt: iso(r.canceled_at),
    latestInvoiceId: r.latest_invoice_id,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

/**
 * Subscriptions in the local ledger. Subscription state is taken from the processor's current object
 * (answers, reconciliation, and a re-fetch on every webhook), so reordered events cannot regress it;
 * `canceled` and `incomplete_expired` are terminal and never left.
 */
export class SubscriptionLedger {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async begin(s: {
    providerIdempotencyKey: string;
    requestHash: string;
    customerId: string;
    priceId: string;
    paymentMethod: string;
    trialPeriodDays?: number | undefined;
    metadata?: Record<string, string> | undefined;
    createdBy?: string | undefined;
  }): Promise<{ subscription: Subscription; created: boolean; requestHash: string; providerKey: string }> {
    const at = this.now();
    const ins = await this.store.query<Row>(
      `INSERT INTO payment_subscriptions (id, provider_idempotency_key, request_hash, customer_id, price_id, payment_method, trial_period_days, metadata, status, created_by, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, 'processing', $9, $10, $10)
       ON CONFLICT (provider_idempotency_key) DO NOTHING RETURNING *`,
      [
        newId('sub'),
        s.providerIdempotencyKey,
        s.requestHash,
        s.customerId,
        s.priceId,
        s.paymentMethod,
        s.trialPeriodDays ?? null,
        JSON.stringify(s.metadata ?? {}),
        s.createdBy ?? null,
        at,
      ],
    );
    if (ins.rows[0])
      return {
        subscription: toSubscription(ins.rows[0]),
        created: true,
        requestHash: s.requestHash,
        providerKey: s.providerIdempotencyKey,
      };
    const row = (await rowWhere<Row>(
      this.store,
      'payment_subscriptions',
      'provider_idempotency_key',
      s.providerIdempotencyKey,
    ))!;
    return {
      subscription: toSubscription(row),
      created: false,
      requestHash: row.request_hash,
      providerKey: s.providerIdempotencyKey,
    };
  }

  async get(id: string): Promise<Subscription | undefined> {
    const row = await rowWhere<Row>(this.store, 'payment_subscriptions', 'id', id);
    return row && toSubscription(row);
  }

  async key(id: string): Promise<string | undefined> {
    return (await rowWhere<Row>(this.store, 'payment_subscriptions', 'id', id))?.provider_idempotency_key;
  }

  async findByProviderId(providerId: string): Promise<string | undefined> {
    return (await rowWhere<Row>(this.store, 'payment_subscriptions', 'provider_subscription_id', providerId))
      ?.id;
  }

  /** Stores the processor's current view of the subscription. */
  async apply(id: string, ps: ProviderSubscription): Promise<Subscription> {
    const status = PROVIDER_STATUSES.has(ps.status) ? (ps.status as SubscriptionStatus) : 'unknown';
    const { rows } = await this.store.query<Row>(
      `UPDATE payment_subscriptions SET status = $2, provider_subscription_id = $3, current_period_start = $4, current_period_end = $5, trial_end = $6,
         cancel_at_period_end = $7, canceled_at = $8, latest_invoice_id = $9, updated_at = $10
       WHERE id = $1 AND status NOT IN ('canceled', 'incomplete_expired') RETURNING *`,
      [
        id,
        status,
        ps.id,
        fromUnix(ps.current_period_start),
        fromUnix(ps.current_period_end),
        fromUnix(ps.trial_end),
        ps.cancel_at_period_end,
        fromUnix(ps.canceled_at),
        ps.latest_invoice,
        this.now(),
      ],
    );
    return rows[0] ? toSubscription(rows[0]) : (await this.get(id))!;
  }

  async mark(id: string, status: 'unknown' | 'canceled'): Promise<Subscription> {
    const { rows } = await this.store.query<Row>(
      `UPDATE payment_subscriptions SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ('processing', 'unknown') RETURNING *`,
      [id, status, this.now()],
    );
    return rows[0] ? toSubscription(rows[0]) : (await this.get(id))!;
  }

  /** Provider refused the creation (no subscription exists there). */
  async markRefused(id: string): Promise<void> {
    await this.store.query(
      "UPDATE payment_subscriptions SET status = 'incomplete_expired', updated_at = $2 WHERE id = $1 AND status IN ('processing', 'unknown')",
      [id, this.now()],
    );
  }
}
