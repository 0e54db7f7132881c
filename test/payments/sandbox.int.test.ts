import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '../../src/protocols/signing/index.js';
import { createPaymentsSandbox, type PaymentsSandbox } from '../../src/sandbox/payments/index.js';
import { control, sandboxClient } from './sandbox-client.js';

let sandbox: PaymentsSandbox;
let call: ReturnType<typeof sandboxClient>;
const visa = (amount = 1250, extra: Record<string, unknown> = {}) => ({
  amount,
  currency: 'usd',
  customer: 'cus_synthetic_1',
  payment_method: 'pm_card_visa',
  ...extra,
});

beforeAll(async () => {
  sandbox = await createPaymentsSandbox({
    engine: { slowResponseMs: 1500 },
    webhooks: { retryDelaysMs: [20, 20, 20] },
  });
  await sandbox.listen();
  call = sandboxClient(sandbox.url);
});
afterAll(() => sandbox.close());
beforeEach(() => control(sandbox.url, '/_sandbox/reset', {}));

describe('payments sandbox: authentication', () => {
  it('answers 401 with the specific code for each signing failure', async () => {
    expect((await call('GET', '/api/v1/charges', undefined, { sign: false })).body.error.code).toBe(
      'missing_signature_header',
    );
    const wrongKey = sandboxClient(sandbox.url, 'pk_nobody');
    expect((await wrongKey('GET', '/api/v1/charges')).body.error.code).toBe('invalid_api_key');
    const wrongSecret = sandboxClient(sandbox.url, 'pk_test_carebridge', ['sk_wrong']);
    const r = await wrongSecret('GET', '/api/v1/charges');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('signature_mismatch');
  });

  it('accepts the previous secret during a rotation and refuses it once revoked', async () => {
    await control(sandbox.url, '/_sandbox/api-keys', { apiKey: 'pk_rot', secrets: ['sk_new', 'sk_old'] });
    expect((await sandboxClient(sandbox.url, 'pk_rot', ['sk_old'])('GET', '/api/v1/charges')).status).toBe(
      200,
    );
    await control(sandbox.url, '/_sandbox/api-keys', { apiKey: 'pk_rot', secrets: ['sk_new'] });
    expect(
      (await sandboxClient(sandbox.url, 'pk_rot', ['sk_old'])('GET', '/api/v1/charges')).body.error.code,
    ).toBe('signature_mismatch');
  });
});

describe('payments sandbox: charges and idempotency', () => {
  it('creates, retrieves and pages through charges with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await call('POST', '/api/v1/charges', visa(1000 + i), { idempotencyKey: `k${i}` })).body.id);
    expect((await call('GET', `/api/v1/charges/${ids[0]}`)).body.amount).toBe(1000);
    const p1 = await call('GET', '/api/v1/charges?limit=2');
    expect(p1.body.data.map((c: { id: string }) => c.id)).toEqual([ids[4], ids[3]]);
    expect(p1.body.has_more).toBe(true);
    const p3 = await call('GET', `/api/v1/charges?limit=2&starting_after=${ids[1]}`);
    expect(p3.body.data.map((c: { id: string }) => c.id)).toEqual([ids[0]]);
    expect(p3.body.has_more).toBe(false);
  });

  it('replays the stored answer for the same key and refuses other parameters', async () => {
    const a = await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'order-1' });
    const b = await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'order-1' });
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers.get('idempotent-replayed')).toBe('true');
    const c = await call('POST', '/api/v1/charges', visa(999), { idempotencyKey: 'order-1' });
    expect(c.status).toBe(400);
    expect(c.body.error.type).toBe('idempotency_error');
    expect((await control(sandbox.url, '/_sandbox/state')).counts.charges).toBe(1);
  });

  it('answers 409 while the first request with a key is still executing', async () => {
    const slow = visa(1250, { payment_method: 'pm_card_slow' });
    const first = call('POST', '/api/v1/charges', slow, { idempotencyKey: 'slow-1' });
    // Wait until the first request holds the key (it is executing), instead of guessing with a sleep.
    while ((await control(sandbox.url, '/_sandbox/state')).counts.idempotencyKeys < 1)
      await new Promise(setImmediate);
    const second = await call('POST', '/api/v1/charges', slow, { idempotencyKey: 'slow-1' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('idempotency_key_in_use');
    expect((await first).status).toBe(200);
  });

  it('forgets keys after 24 h on the sandbox clock', async () => {
    await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'old' });
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 24 * 3600 + 1 });
    const again = await call('POST', '/api/v1/charges', visa(2000), { idempotencyKey: 'old' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });

  it('declines test cards with 402 and their decline codes, and keeps the failed charge', async () => {
    const cases = [
      ['pm_card_chargeDeclined', 'card_declined', 'generic_decline'],
      ['pm_card_insufficientFunds', 'card_declined', 'insufficient_funds'],
      ['pm_card_expired', 'expired_card', 'expired_card'],
      ['pm_card_incorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
      ['pm_card_processingError', 'processing_error', 'processing_error'],
    ];
    for (const [pm, code, decline] of cases) {
      const r = await call('POST', '/api/v1/charges', visa(1250, { payment_method: pm }), {
        idempotencyKey: pm,
      });
      expect(r.status).toBe(402);
      expect(r.body.error).toMatchObject({ type: 'card_error', code, decline_code: decline });
    }
    expect((await control(sandbox.url, '/_sandbox/state')).counts.chargesByStatus.failed).toBe(cases.length);
  });

  it('holds fraud-review charges pending until the clock passes the review', async () => {
    const r = await call(
      'POST',
      '/api/v1/charges',
      visa(1250, { payment_method: 'pm_card_riskLevelElevated' }),
      { idempotencyKey: 'rv' },
    );
    expect(r.body).toMatchObject({ status: 'pending', outcome: { type: 'manual_review' } });
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 3600 });
    expect((await call('GET', `/api/v1/charges/${r.body.id}`)).body.status).toBe('succeeded');
  });

  it('fail_after_commit: the charge exists, the answer is a 500, and a retry with the key replays the charge', async () => {
    await control(sandbox.url, '/_sandbox/faults', {
      method: 'POST',
      path: '/api/v1/charges',
      action: 'fail_after_commit',
    });
    const lost = await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'fac' });
    expect(lost.status).toBe(500);
    const retry = await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'fac' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await control(sandbox.url, '/_sandbox/state')).counts.charges).toBe(1);
  });

  it('reset after commit: the socket closes, the charge is committed', async () => {
    await control(sandbox.url, '/_sandbox/faults', {
      path: '/api/v1/charges',
      action: 'reset',
      afterCommit: true,
    });
    await expect(call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'rst' })).rejects.toThrow(
      'fetch failed',
    );
    expect((await control(sandbox.url, '/_sandbox/state')).counts.charges).toBe(1);
  });

  it('error faults answer before anything is committed', async () => {
    await control(sandbox.url, '/_sandbox/faults', {
      path: '/api/v1/charges',
      action: 'error',
      status: 503,
      count: 2,
    });
    expect((await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'e1' })).status).toBe(503);
    expect((await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'e1' })).status).toBe(503);
    expect((await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'e1' })).status).toBe(200);
    expect((await control(sandbox.url, '/_sandbox/state')).counts.charges).toBe(1);
  });
});

describe('payments sandbox: refunds', () => {
  it('refunds partially several times, then refuses more than what remains', async () => {
    const ch = (await call('POST', '/api/v1/charges', visa(1000), { idempotencyKey: 'r-ch' })).body;
    expect(
      (await call('POST', '/api/v1/refunds', { charge: ch.id, amount: 300 }, { idempotencyKey: 'r1' })).body
        .status,
    ).toBe('succeeded');
    expect(
      (await call('POST', '/api/v1/refunds', { charge: ch.id, amount: 300 }, { idempotencyKey: 'r2' }))
        .status,
    ).toBe(200);
    const over = await call(
      'POST',
      '/api/v1/refunds',
      { charge: ch.id, amount: 500 },
      { idempotencyKey: 'r3' },
    );
    expect(over.status).toBe(400);
    expect(over.body.error).toMatchObject({ code: 'amount_too_large', param: 'amount' });
    expect(over.body.error.message).toContain('($4.00)');
    const rest = await call('POST', '/api/v1/refunds', { charge: ch.id }, { idempotencyKey: 'r4' });
    expect(rest.body.amount).toBe(400);
    const done = await call('POST', '/api/v1/refunds', { charge: ch.id }, { idempotencyKey: 'r5' });
    expect(done.body.error.code).toBe('charge_already_refunded');
    expect((await call('GET', `/api/v1/charges/${ch.id}`)).body).toMatchObject({
      amount_refunded: 1000,
      refunded: true,
    });
  });

  it('concurrent partial refunds never exceed the charge', async () => {
    const ch = (await call('POST', '/api/v1/charges', visa(1000), { idempotencyKey: 'c-ch' })).body;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call('POST', '/api/v1/refunds', { charge: ch.id, amount: 300 }, { idempotencyKey: `cr${i}` }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect((await call('GET', `/api/v1/charges/${ch.id}`)).body.amount_refunded).toBe(900);
  });
});

describe('payments sandbox: subscriptions on the sandbox clock', () => {
  it('renews monthly and charges each cycle', async () => {
    const sub = (
      await call(
        'POST',
        '/api/v1/subscriptions',
        { customer: 'cus_s', price: 'price_basic_monthly', payment_method: 'pm_card_visa' },
        { idempotencyKey: 's1' },
      )
    ).body;
    expect(sub.status).toBe('active');
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 62 * 86_400 });
    const now = (await call('GET', `/api/v1/subscriptions/${sub.id}`)).body;
    expect(now.status).toBe('active');
    expect(now.current_period_start).toBeGreaterThan(sub.current_period_start);
    const state = await control(sandbox.url, '/_sandbox/state');
    expect(
      state.invoices.filter(
        (i: { subscription: string; status: string }) => i.subscription === sub.id && i.status === 'paid',
      ),
    ).toHaveLength(3);
  });

  it('trial → past_due → unpaid when every dunning retry fails', async () => {
    const sub = (
      await call(
        'POST',
        '/api/v1/subscriptions',
        {
          customer: 'cus_d',
          price: 'price_basic_monthly',
          payment_method: 'pm_card_chargeCustomerFail',
          trial_period_days: 7,
        },
        { idempotencyKey: 's2' },
      )
    ).body;
    expect(sub.status).toBe('trialing');
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 7 * 86_400 });
    expect((await call('GET', `/api/v1/subscriptions/${sub.id}`)).body.status).toBe('past_due');
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 10 * 86_400 });
    expect((await call('GET', `/api/v1/subscriptions/${sub.id}`)).body.status).toBe('unpaid');
  });

  it('a declined first invoice leaves it incomplete, then incomplete_expired after 23 h', async () => {
    const r = await call(
      'POST',
      '/api/v1/subscriptions',
      { customer: 'cus_i', price: 'price_basic_monthly', payment_method: 'pm_card_chargeDeclined' },
      { idempotencyKey: 's3' },
    );
    expect(r.body.status).toBe('incomplete');
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 23 * 3600 });
    expect((await call('GET', `/api/v1/subscriptions/${r.body.id}`)).body.status).toBe('incomplete_expired');
  });

  it('cancels at period end or at once', async () => {
    const a = (
      await call(
        'POST',
        '/api/v1/subscriptions',
        { customer: 'c', price: 'price_test_daily', payment_method: 'pm_card_visa' },
        { idempotencyKey: 's4' },
      )
    ).body;
    expect((await call('DELETE', `/api/v1/subscriptions/${a.id}?at_period_end=true`)).body).toMatchObject({
      status: 'active',
      cancel_at_period_end: true,
    });
    await control(sandbox.url, '/_sandbox/clock', { advanceSeconds: 86_400 });
    expect((await call('GET', `/api/v1/subscriptions/${a.id}`)).body.status).toBe('canceled');
    const b = (
      await call(
        'POST',
        '/api/v1/subscriptions',
        { customer: 'c', price: 'price_test_daily', payment_method: 'pm_card_visa' },
        { idempotencyKey: 's5' },
      )
    ).body;
    expect((await call('DELETE', `/api/v1/subscriptions/${b.id}`)).body.status).toBe('canceled');
  });
});

describe('payments sandbox: webhooks', () => {
  let receiver: Server;
  let url: string;
  const received: Array<{ raw: string; sig: string | undefined }> = [];
  let failNext = 0;

  beforeAll(async () => {
    receiver = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        received.push({ raw, sig: req.headers['webhook-signature'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const addr = receiver.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => receiver.close(() => r())));
  beforeEach(() => {
    received.length = 0;
  });

  it('delivers signed events with every active secret, retrying failed deliveries', async () => {
    await control(sandbox.url, '/_sandbox/webhook-endpoints', {
      url,
      secrets: ['whsec_a', 'whsec_b'],
      events: ['charge.succeeded'],
    });
    failNext = 2;
    const ch = (await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'wh1' })).body;
    await sandbox.webhooks.idle();
    expect(received).toHaveLength(1);
    const ev = JSON.parse(received[0]!.raw);
    expect(ev).toMatchObject({ type: 'charge.succeeded', data: { object: { id: ch.id } } });
    const now = Math.floor(Date.now() / 1000);
    expect(
      verifyWebhookSignature(received[0]!.raw, received[0]!.sig, { secrets: ['whsec_b'], nowSeconds: now })
        .ok,
    ).toBe(true);
    expect(
      verifyWebhookSignature(received[0]!.raw, received[0]!.sig, { secrets: ['whsec_a'], nowSeconds: now })
        .ok,
    ).toBe(true);
    expect((await call('GET', `/api/v1/events/${ev.id}`)).body.type).toBe('charge.succeeded');
  });

  it('duplicates deliveries when asked to', async () => {
    await control(sandbox.url, '/_sandbox/webhook-endpoints', { url, secrets: ['whsec_a'] });
    await control(sandbox.url, '/_sandbox/webhooks', { duplicateProbability: 1 });
    await call('POST', '/api/v1/charges', visa(), { idempotencyKey: 'wh2' });
    await sandbox.webhooks.idle();
    expect(received).toHaveLength(2);
    expect(received[0]!.raw).toBe(received[1]!.raw);
  });
});
