import type { Store } from '../../kernel/store/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import { namingPaymentMethod } from './payment-flow.js';
import type { ProcessorClient } from './processor.js';
import {
  assertSameRequest,
  isOpen,
  prepareWrite,
  sendReconciled,
  turnedAwayError,
  type WriteOptions,
} from './reconciled-write.js';
import { type SubscriptionRequest, subscriptionRequestSchema } from './schemas.js';
import { SubscriptionLedger } from './subscription-ledger.js';
import type { ProviderList, ProviderSubscription, Subscription } from './types.js';

/** Subscriptions: created once per business key, reconciled by metadata lookup, refreshed from the processor. */
export class SubscriptionFlow {
  private readonly ledger: SubscriptionLedger;

  constructor(
    private readonly client: ProcessorClient,
    store: Store,
    now: () => Date,
    private readonly rounds: number,
  ) {
    this.ledger = new SubscriptionLedger(store, now);
  }

  async create(request: SubscriptionRequest, opts: WriteOptions): Promise<Subscription> {
    const write = prepareWrite('sub', subscriptionRequestSchema, request, opts);
    const req = write.request;
    const begun = await this.ledger.begin({
      providerIdempotencyKey: write.providerKey,
      requestHash: write.requestHash,
      customerId: req.customerId,
      priceId: req.priceId,
      paymentMethod: req.paymentMethod,
      trialPeriodDays: req.trialPeriodDays,
      metadata: req.metadata,
      createdBy: opts.actor,
    });
    assertSameRequest(begun, write, 'subscription');
    const s = begun.subscription;
    if (!isOpen(s.status)) return s;
    return this.subscribe(s, write.providerKey, { lookUpFirst: !begun.created });
  }

  async get(id: string, opts: { refresh?: boolean } = {}): Promise<Subscription> {
    const s = await this.ledger.get(id);
    if (!s) throw paymentErrors.notFound(`No subscription ${id}.`, { integration: 'payments' });
    if (isOpen(s.status)) {
      const key = (await this.ledger.key(id))!;
      return this.subscribe(s, key, { lookUpFirst: true }).catch(() => s);
    }
    return opts.refresh ? this.refresh(id) : s;
  }

  /** Takes the processor's current object (out-of-order safe: whatever event arrives, state is re-read). */
  async refresh(id: string): Promise<Subscription> {
    const s = await this.ledger.get(id);
    if (!s) throw paymentErrors.notFound(`No subscription ${id}.`, { integration: 'payments' });
    if (!s.providerSubscriptionId) return this.get(id);
    const res = await this.client.call<ProviderSubscription>('subscriptions.retrieve', {
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
      if (isOpen(s.status)) {
        throw paymentErrors.outcomeUnknown('The subscription is not confirmed yet; retry shortly.', {
          integration: 'payments',
        });
      }
      return this.ledger.mark(id, 'canceled');
    }
    const res = await this.client.call<ProviderSubscription>('subscriptions.cancel', {
      method: 'DELETE',
      path: `/api/v1/subscriptions/${encodeURIComponent(s.providerSubscriptionId)}`,
      query: { at_period_end: opts.atPeriodEnd ? 'true' : 'false' },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    s = await this.ledger.apply(id, res.body);
    return s;
  }

  async lookup(id: string): Promise<ProviderSubscription | undefined> {
    const res = await this.client.call<ProviderList<ProviderSubscription>>('subscriptions.list', {
      method: 'GET',
      path: '/api/v1/subscriptions',
      query: { 'metadata[carebridge_subscription_id]': id, limit: 10 },
    });
    if (!res.ok) throw toCareBridgeError(res.answer);
    return res.body.data[0];
  }

  /**
   * A subscription the processor reports (a webhook, `customer.subscription.*` or `invoice.*`): re-read from
   * the processor, so the order events arrive in does not matter. Found by our id when the event carries it,
   * else by the processor's subscription id; subscriptions CareBridge did not create are ignored.
   */
  async refreshReported(ref: { providerSubscriptionId: string; subscriptionId?: string | undefined }) {
    const id = ref.subscriptionId ?? (await this.ledger.findByProviderId(ref.providerSubscriptionId));
    if (!id || !(await this.ledger.get(id))) return;
    await this.refresh(id);
  }

  /** Sends the subscription `s` (open, recorded under `key`) and returns it settled. */
  private subscribe(s: Subscription, key: string, opts: { lookUpFirst: boolean }): Promise<Subscription> {
    return sendReconciled<ProviderSubscription, Subscription>(
      {
        send: () =>
          this.client.call<ProviderSubscription>('subscriptions.create', {
            method: 'POST',
            path: '/api/v1/subscriptions',
            json: {
              customer: s.customerId,
              price: s.priceId,
              payment_method: s.paymentMethod,
              ...(s.trialPeriodDays ? { trial_period_days: s.trialPeriodDays } : {}),
              metadata: { ...s.metadata, carebridge_subscription_id: s.id },
            },
            idempotencyKey: key,
          }),
        lookUp: () => this.lookup(s.id),
        apply: (found) => this.ledger.apply(s.id, found),
        refused: async (err) => {
          if (err.code !== 'PAYMENTS_AUTHENTICATION_FAILED') await this.ledger.markRefused(s.id);
          throw namingPaymentMethod(err, s.paymentMethod);
        },
        unanswered: async (lastError, turnedAway) => {
          await this.ledger.mark(s.id, 'unknown');
          if (turnedAway) throw turnedAwayError(turnedAway, 'subscription', { subscriptionId: s.id });
          throw paymentErrors.outcomeUnknown(
            'The processor did not confirm the subscription; retry with the same key to reconcile.',
            {
              integration: 'payments',
              details: { subscriptionId: s.id },
              cause: lastError,
            },
          );
        },
      },
      { rounds: this.rounds, ...opts },
    );
  }
}
