import { createHash } from 'node:crypto';
import type { Store } from '../../kernel/store/index.js';
import { hashRequest } from '../../kernel/store/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import type { Processor } from './processor.js';
import {
  operationKeySchema,
  type SubscriptionRequest,
  subscriptionRequestSchema,
  validate,
} from './schemas.js';
import { SubscriptionLedger } from './subscription-ledger.js';
import type { ProviderList, ProviderSubscription, Subscription } from './types.js';

const key = (operationKey: string) =>
  `cb_sub_${createHash('sha256').update(operationKey).digest('hex').slice(0, 40)}`;

/** Subscriptions: created once per business key, reconciled by metadata lookup, refreshed from the processor. */
export class SubscriptionFlow {
  readonly ledger: SubscriptionLedger;

  constructor(
    private readonly processor: Processor,
    store: Store,
    now: () => Date,
    private readonly rounds: number,
  ) {
    this.ledger = new SubscriptionLedger(store, now);
  }

  async create(
    request: SubscriptionRequest,
    opts: { idempotencyKey: string; actor?: string },
  ): Promise<Subscription> {
    const req = validate(subscriptionRequestSchema, request);
    const operationKey = validate(operationKeySchema, opts.idempotencyKey);
    const requestHash = hashRequest(req);
    const begun = await this.ledger.begin({
      providerIdempotencyKey: key(operationKey),
      requestHash,
      customerId: req.customerId,
      priceId: req.priceId,
      paymentMethod: req.paymentMethod,
      trialPeriodDays: req.trialPeriodDays,
      metadata: req.metadata,
      createdBy: opts.actor,
    });
    if (begun.requestHash !== requestHash) {
      throw paymentErrors.idempotencyConflict(
        'This idempotency key was already used for a different subscription.',
        { integration: 'payments' },
      );
    }
    const s = begun.subscription;
    if (s.status !== 'processing' && s.status !== 'unknown') return s;
    return this.drive(s, begun.providerKey, !begun.created);
  }

  async get(id: string, opts: { refresh?: boolean } = {}): Promise<Subscription> {
    const s = await this.ledger.get(id);
    if (!s) throw paymentErrors.notFound(`No subscription ${id}.`, { integration: 'payments' });
    if (s.status === 'processing' || s.status === 'unknown') {
      const k = (await this.ledger.key(id))!;
      return this.drive(s, k, true).catch(() => s);
    }
    return opts.refresh ? this.refresh(id) : s;
  }

  /** Takes the processor's current object (out-of-order safe: whatever event arrives, state is re-read). */
  async refresh(id: string): Promise<Subscription> {
    const s = await this.ledger.get(id);
    if (!s) throw paymentErrors.notFound(`No subscription ${id}.`, { integration: 'payments' });
    if (!s.providerSubscriptionId) return this.get(id);
    const res = await this.processor.call<ProviderSubscription>('subscriptions.retrieve', {
      method: 'GET',
      path: `/api/v1/subscriptions/${encodeURIComponent(s.providerSubscriptionId)}`,
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    return this.ledger.apply(id, res.body);
  }

  async cancel(id: string, opts: { atPeriodEnd?: boolean }): Promise<Subscription> {
    let s = await this.get(id);
    if (s.status === 'canceled' || s.status === 'incomplete_expired') return s;
    if (!s.providerSubscriptionId) {
      if (s.status === 'processing' || s.status === 'unknown') {
        throw paymentErrors.outcomeUnknown('The subscription is not confirmed yet; retry shortly.', {
          integration: 'payments',
        });
      }
      return this.ledger.mark(id, 'canceled');
    }
    const res = await this.processor.call<ProviderSubscription>('subscriptions.cancel', {
      method: 'DELETE',
      path: `/api/v1/subscriptions/${encodeURIComponent(s.providerSubscriptionId)}`,
      query: { at_period_end: opts.atPeriodEnd ? 'true' : 'false' },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    s = await this.ledger.apply(id, res.body);
    return s;
  }

  async lookup(id: string): Promise<ProviderSubscription | undefined> {
    const res = await this.processor.call<ProviderList<ProviderSubscription>>('subscriptions.list', {
      method: 'GET',
      path: '/api/v1/subscriptions',
      query: { 'metadata[carebridge_subscription_id]': id, limit: 10 },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    return res.body.data[0];
  }

  private async drive(s: Subscription, providerKey: string, reconcileFirst: boolean): Promise<Subscription> {
    if (reconcileFirst) {
      const found = await this.lookup(s.id).catch(() => undefined);
      if (found) return this.ledger.apply(s.id, found);
    }
    const body = {
      customer: s.customerId,
      price: s.priceId,
      payment_method: s.paymentMethod,
      ...(s.trialPeriodDays ? { trial_period_days: s.trialPeriodDays } : {}),
      metadata: { ...s.metadata, carebridge_subscription_id: s.id },
    };
    let lastError: unknown;
    for (let round = 1; round <= this.rounds; round++) {
      let out: Awaited<ReturnType<Processor['call']>>;
      try {
        out = await this.processor.call<ProviderSubscription>('subscriptions.create', {
          method: 'POST',
          path: '/api/v1/subscriptions',
          json: body,
          idempotencyKey: providerKey,
        });
      } catch (err) {
        lastError = err;
        const found = await this.lookup(s.id).catch(() => undefined);
        if (found) return this.ledger.apply(s.id, found);
        continue;
      }
      if (out.ok) return this.ledger.apply(s.id, out.body as ProviderSubscription);
      const err = toCareBridgeError(out.answer);
      if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED') await this.ledger.markRefused(s.id);
      throw err;
    }
    await this.ledger.mark(s.id, 'unknown');
    throw paymentErrors.outcomeUnknown(
      'The processor did not confirm the subscription; retry with the same key to reconcile.',
      {
        integration: 'payments',
        details: { subscriptionId: s.id },
        cause: lastError,
      },
    );
  }
}
