import { describe, expect, it } from 'vitest';
import { SandboxClock } from '../common/clock.js';
import { BillingEngine, type BillingOptions, DEFAULT_BILLING } from './billing.js';
import { PaymentsEngine } from './engine.js';
import { PaymentsState } from './model.js';
import { SEED_PRICES } from './server.js';
import { WebhookDispatcher } from './webhooks.js';

function setup(billing: Partial<BillingOptions> = {}) {
  const clock = new SandboxClock(() => Date.UTC(2026, 0, 31));
  const state = new PaymentsState();
  for (const p of SEED_PRICES) state.prices.set(p.id, { ...p, object: 'price', created: 0 });
  const engine = new PaymentsEngine(state, clock, new WebhookDispatcher(), {
    slowResponseMs: 0,
    reviewSeconds: 3600,
    refundFailSeconds: 60,
  });
  const types = () => [...state.events.values()].map((e) => e.type);
  return {
    clock,
    state,
    engine,
    billing: new BillingEngine(engine, { ...DEFAULT_BILLING, ...billing }),
    types,
  };
}

describe('subscription status machine', () => {
  it('active subscriptions renew on calendar months (Jan 31 → Feb 28 → Mar 28)', async () => {
    const { clock, billing } = setup();
    const sub = await billing.create({
      customer: 'c',
      price: 'price_basic_monthly',
      payment_method: 'pm_card_visa',
    });
    expect(new Date(sub.current_period_end * 1000).toISOString().slice(0, 10)).toBe('2026-02-28');
    await clock.advance(29 * 86_400);
    expect(sub.status).toBe('active');
    expect(new Date(sub.current_period_end * 1000).toISOString().slice(0, 10)).toBe('2026-03-28');
  });

  it('past_due recovers to active when a dunning retry succeeds', async () => {
    const { clock, billing, types } = setup();
    const sub = await billing.create({
      customer: 'c',
      price: 'price_test_daily',
      payment_method: 'pm_card_visa',
    });
    billing.update(sub.id, { payment_method: 'pm_card_insufficientFunds' });
    await clock.advance(86_400);
    expect(sub.status).toBe('past_due');
    expect(types()).toContain('invoice.payment_failed');
    billing.update(sub.id, { payment_method: 'pm_card_visa' });
    await clock.advance(86_400);
    expect(sub.status).toBe('active');
  });

  it('ends canceled instead of unpaid when the account says so', async () => {
    const { clock, billing, types } = setup({ finalStatus: 'canceled', retryScheduleSeconds: [3600] });
    const sub = await billing.create({
      customer: 'c',
      price: 'price_test_daily',
      payment_method: 'pm_card_chargeCustomerFail',
      trial_period_days: 1,
    });
    expect(sub.status).toBe('trialing');
    await clock.advance(86_400 + 3600);
    expect(sub.status).toBe('canceled');
    expect(types()).toContain('customer.subscription.deleted');
  });

  it('a canceled subscription never charges again', async () => {
    const { clock, billing, state } = setup();
    const sub = await billing.create({
      customer: 'c',
      price: 'price_test_daily',
      payment_method: 'pm_card_visa',
    });
    billing.cancel(sub.id, false);
    await clock.advance(5 * 86_400);
    expect(state.charges.size).toBe(1);
    expect(sub.status).toBe('canceled');
  });

  it('refuses an unknown price before anything is created', async () => {
    const { billing, state } = setup();
    await expect(
      billing.create({ customer: 'c', price: 'price_nope', payment_method: 'pm_card_visa' }),
    ).rejects.toMatchObject({ status: 400 });
    expect(state.subscriptions.size).toBe(0);
  });
});
