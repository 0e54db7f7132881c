import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PaymentsHarness, startHarness } from './harness.js';

let h: PaymentsHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const pay = (extra: Record<string, unknown> = {}) => ({
  amount: 1250,
  currency: 'USD',
  customerId: 'cus_synthetic_42',
  paymentMethod: 'pm_card_visa',
  receiptEmail: 'patient@example.com',
  ...extra,
});
const key = () => ({ 'idempotency-key': randomUUID() });

async function outbox(destination: string) {
  const { rows } = await h.gateway.store.query<{ payload: any }>(
    'SELECT payload FROM outbox WHERE destination = $1 ORDER BY seq',
    [destination],
  );
  return rows.map((r) => r.payload);
}

describe('payments through the gateway', () => {
  it('charges once, replays the same Idempotency-Key, and announces the payment in the outbox', async () => {
    const headers = key();
    const r = await h.api('POST', '/v1/payments', pay({ metadata: { orderId: 'ord_1' } }), headers);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      status: 'succeeded',
      amount: 1250,
      currency: 'USD',
      metadata: { orderId: 'ord_1' },
    });
    expect(r.body.providerChargeId).toMatch(/^ch_/);
    const again = await h.api('POST', '/v1/payments', pay({ metadata: { orderId: 'ord_1' } }), headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(r.body.id);
    const state = (await (await fetch(`${h.sandbox.url}/_sandbox/state`)).json()) as { charges: any[] };
    expect(state.charges.filter((c: any) => c.metadata.carebridge_payment_id === r.body.id)).toHaveLength(1);
    expect((await h.api('GET', `/v1/payments/${r.body.id}`)).body.status).toBe('succeeded');
    await h.settle();
    const metrics = await outbox('kafka:business_metrics');
    expect(
      metrics.filter((m) => m.attributes.paymentId === r.body.id && m.name === 'payment_succeeded'),
    ).toEqual([expect.objectContaining({ value: 1250, unit: 'minor_units', currency: 'USD' })]);
    const mails = await outbox('rabbitmq:email_notifications');
    expect(mails.filter((m) => m.correlationId === r.body.id)).toHaveLength(1);
  });

  it('requires an Idempotency-Key and validates money before calling the processor', async () => {
    expect((await h.api('POST', '/v1/payments', pay())).body.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    const bad = await h.api('POST', '/v1/payments', pay({ amount: 12.5 }), key());
    expect(bad.status).toBe(400);
    expect((await h.api('POST', '/v1/payments', pay({ currency: 'usd' }), key())).status).toBe(400);
    expect((await h.api('POST', '/v1/payments', pay({ currency: 'XYZ' }), key())).status).toBe(400);
  });

  it('a declined card is a 402 with the decline code, recorded as failed, without outbox rows', async () => {
    const r = await h.api('POST', '/v1/payments', pay({ paymentMethod: 'pm_card_insufficientFunds' }), key());
    expect(r.status).toBe(402);
    expect(r.headers['content-type']).toContain('application/problem+json');
    expect(r.body).toMatchObject({ code: 'PAYMENTS_CARD_DECLINED', declineCode: 'insufficient_funds' });
    const p = await h.api('GET', `/v1/payments/${r.body.paymentId}`);
    expect(p.body).toMatchObject({ status: 'failed', failure: { declineCode: 'insufficient_funds' } });
    expect(
      (await outbox('kafka:business_metrics')).some((m) => m.attributes.paymentId === r.body.paymentId),
    ).toBe(false);
  });

  it('refunds partially, then the rest, refuses more, and lists the refunds', async () => {
    const p = (await h.api('POST', '/v1/payments', pay({ amount: 5000 }), key())).body;
    const r1 = await h.api(
      'POST',
      `/v1/payments/${p.id}/refunds`,
      { amount: 2000, reason: 'requested_by_customer' },
      key(),
    );
    expect(r1.status).toBe(201);
    expect(r1.body).toMatchObject({ status: 'succeeded', amount: 2000 });
    const over = await h.api('POST', `/v1/payments/${p.id}/refunds`, { amount: 4000 }, key());
    expect(over.status).toBe(400);
    expect(over.body.code).toBe('PAYMENTS_REFUND_AMOUNT_TOO_LARGE');
    const rest = await h.api('POST', `/v1/payments/${p.id}/refunds`, {}, key());
    expect(rest.body).toMatchObject({ status: 'succeeded', amount: 3000 });
    expect((await h.api('POST', `/v1/payments/${p.id}/refunds`, {}, key())).body.code).toBe(
      'PAYMENTS_ALREADY_REFUNDED',
    );
    expect((await h.api('GET', `/v1/payments/${p.id}`)).body.amountRefunded).toBe(5000);
    expect(
      (await h.api('GET', `/v1/payments/${p.id}/refunds`)).body.data.filter(
        (r: any) => r.status === 'succeeded',
      ),
    ).toHaveLength(2);
    await h.settle();
    const refundMetrics = (await outbox('kafka:business_metrics')).filter(
      (m) => m.name === 'refund_succeeded' && m.attributes.paymentId === p.id,
    );
    expect(refundMetrics.map((m) => m.value).sort()).toEqual([2000, 3000]);
    const { rows } = await h.gateway.store.query<{ action: string; outcome: string }>(
      'SELECT action, outcome FROM audit_log WHERE resource = $1 ORDER BY id',
      [`payment:${p.id}`],
    );
    expect(rows.map((r) => r.outcome)).toEqual(['success', 'failure', 'success', 'failure']);
  });

  it('refunds the rest when the refund has no body at all, and a 201 points at the refund', async () => {
    const p = (await h.api('POST', '/v1/payments', pay({ amount: 4000 }), key())).body;
    const part = await h.api('POST', `/v1/payments/${p.id}/refunds`, { amount: 1500 }, key());
    expect(part.status).toBe(201);
    expect(part.headers.location).toBe(`/v1/payments/${p.id}/refunds/${part.body.id}`);
    // No Content-Type, no body: what `curl -X POST` sends.
    const rest = await h.gateway.app.inject({
      method: 'POST',
      url: `/v1/payments/${p.id}/refunds`,
      headers: key(),
    });
    expect(rest.statusCode, rest.body).toBe(201);
    expect(rest.json()).toMatchObject({ status: 'succeeded', amount: 2500 });
    const read = await h.api('GET', rest.headers.location as string);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(rest.json());
    // A JSON Content-Type with an empty body is no body too; here nothing is left.
    const empty = await h.gateway.app.inject({
      method: 'POST',
      url: `/v1/payments/${p.id}/refunds`,
      headers: { ...key(), 'content-type': 'application/json' },
      payload: '',
    });
    expect(empty.json().code).toBe('PAYMENTS_ALREADY_REFUNDED');
    // Another payment's refund id is not found under this payment.
    const other = (await h.api('POST', '/v1/payments', pay(), key())).body;
    expect((await h.api('GET', `/v1/payments/${other.id}/refunds/${part.body.id}`)).body.code).toBe(
      'PAYMENTS_NOT_FOUND',
    );
    // Malformed JSON is still refused.
    const broken = await h.gateway.app.inject({
      method: 'POST',
      url: `/v1/payments/${p.id}/refunds`,
      headers: { ...key(), 'content-type': 'application/json' },
      payload: '{"amount":',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('BAD_REQUEST');
  });

  it('a cursor that is no payment id is a 400 of its own, not the first page again', async () => {
    const garbage = await h.api('GET', '/v1/payments?limit=1&cursor=garbage');
    expect(garbage.status).toBe(400);
    expect(garbage.body).toMatchObject({ code: 'PAYMENTS_INVALID_CURSOR', field: 'querystring.cursor' });
    await expect(h.payments.listPayments({ cursor: 'garbage' })).rejects.toMatchObject({
      code: 'PAYMENTS_INVALID_CURSOR',
    });
    // A well-formed id is a position, whether or not that payment exists.
    expect((await h.api('GET', '/v1/payments?limit=1&cursor=pay_01J0000000000000000000000Z')).status).toBe(
      200,
    );
  });

  it('an unknown pm_ token is a 400 of its own naming the token, for payments and subscriptions', async () => {
    const headers = key();
    const r = await h.api('POST', '/v1/payments', pay({ paymentMethod: 'pm_card_doesNotExist' }), headers);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      code: 'PAYMENTS_PAYMENT_METHOD_UNKNOWN',
      field: 'paymentMethod',
      paymentMethod: 'pm_card_doesNotExist',
    });
    expect(r.body.detail).toContain('pm_card_doesNotExist');
    expect((await h.api('GET', `/v1/payments/${r.body.paymentId}`)).body.status).toBe('failed');
    // The library, asked again with the same operation key, gives the same answer from the ledger.
    const request = {
      amount: 1250,
      currency: 'USD',
      customerId: 'cus_pm',
      paymentMethod: 'pm_card_doesNotExist',
    };
    const opts = { idempotencyKey: `unknown-pm-${randomUUID()}` };
    await expect(h.payments.processPayment(request, opts)).rejects.toMatchObject({
      code: 'PAYMENTS_PAYMENT_METHOD_UNKNOWN',
    });
    await expect(h.payments.processPayment(request, opts)).rejects.toMatchObject({
      code: 'PAYMENTS_PAYMENT_METHOD_UNKNOWN',
      details: { paymentMethod: 'pm_card_doesNotExist' },
    });
    const s = await h.api(
      'POST',
      '/v1/subscriptions',
      { customerId: 'cus_sub_pm', priceId: 'price_basic_monthly', paymentMethod: 'pm_nope' },
      key(),
    );
    expect(s.status).toBe(400);
    expect(s.body).toMatchObject({ code: 'PAYMENTS_PAYMENT_METHOD_UNKNOWN', paymentMethod: 'pm_nope' });
  });

  it('lists payments newest first with a cursor', async () => {
    const customerId = `cus_list_${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await h.api('POST', '/v1/payments', pay({ customerId }), key())).body.id);
    const p1 = await h.api('GET', `/v1/payments?customerId=${customerId}&limit=2`);
    expect(p1.body.data.map((p: any) => p.id)).toEqual([ids[2], ids[1]]);
    const p2 = await h.api(
      'GET',
      `/v1/payments?customerId=${customerId}&limit=2&cursor=${p1.body.nextCursor}`,
    );
    expect(p2.body.data.map((p: any) => p.id)).toEqual([ids[0]]);
    expect(p2.body.nextCursor).toBeNull();
  });

  it('a fraud-review payment is 202 pending, then succeeds through the webhook once the review clears', async () => {
    const r = await h.api('POST', '/v1/payments', pay({ paymentMethod: 'pm_card_riskLevelElevated' }), key());
    expect(r.status).toBe(202);
    expect(r.body.status).toBe('pending');
    await fetch(`${h.sandbox.url}/_sandbox/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 3600 }),
    });
    await h.settle();
    expect((await h.api('GET', `/v1/payments/${r.body.id}`)).body.status).toBe('succeeded');
  });
});

describe('subscriptions through the gateway', () => {
  const clock = (s: number) =>
    fetch(`${h.sandbox.url}/_sandbox/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: s }),
    });

  it('creates, renews over an advanced clock (webhooks keep the ledger current), and cancels', async () => {
    const s = await h.api(
      'POST',
      '/v1/subscriptions',
      { customerId: 'cus_sub_1', priceId: 'price_basic_monthly', paymentMethod: 'pm_card_visa' },
      key(),
    );
    expect(s.status).toBe(201);
    expect(s.body.status).toBe('active');
    await clock(65 * 86_400);
    await h.settle();
    const now = (await h.api('GET', `/v1/subscriptions/${s.body.id}`)).body;
    expect(now.status).toBe('active');
    expect(Date.parse(now.currentPeriodStart)).toBeGreaterThan(
      Date.parse(s.body.currentPeriodStart) + 59 * 86_400_000,
    );
    const c = await h.api('DELETE', `/v1/subscriptions/${s.body.id}`);
    expect(c.body.status).toBe('canceled');
  });

  it('dunning: trial ends, renewal fails → past_due, retries fail → unpaid', async () => {
    const s = await h.api(
      'POST',
      '/v1/subscriptions',
      {
        customerId: 'cus_sub_2',
        priceId: 'price_basic_monthly',
        paymentMethod: 'pm_card_chargeCustomerFail',
        trialPeriodDays: 7,
      },
      key(),
    );
    expect(s.body.status).toBe('trialing');
    await clock(7 * 86_400);
    await h.settle();
    expect((await h.api('GET', `/v1/subscriptions/${s.body.id}`)).body.status).toBe('past_due');
    await clock(10 * 86_400);
    await h.settle();
    expect((await h.api('GET', `/v1/subscriptions/${s.body.id}`)).body.status).toBe('unpaid');
  });

  it('cancel at period end keeps it active until the period ends', async () => {
    const s = await h.api(
      'POST',
      '/v1/subscriptions',
      { customerId: 'cus_sub_3', priceId: 'price_test_daily', paymentMethod: 'pm_card_visa' },
      key(),
    );
    const c = await h.api('DELETE', `/v1/subscriptions/${s.body.id}?atPeriodEnd=true`);
    expect(c.body).toMatchObject({ status: 'active', cancelAtPeriodEnd: true });
    await clock(86_400);
    await h.settle();
    expect((await h.api('GET', `/v1/subscriptions/${s.body.id}`)).body.status).toBe('canceled');
  });
});
