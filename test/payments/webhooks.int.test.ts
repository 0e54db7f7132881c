import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhookPayload } from '../../src/protocols/signing/index.js';
import { type PaymentsHarness, startHarness, WEBHOOK_SECRETS } from './harness.js';

let h: PaymentsHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const post = (raw: string, signature: string | undefined) =>
  h.gateway.app.inject({
    method: 'POST',
    url: '/webhooks/payments',
    headers: { 'content-type': 'application/json', ...(signature ? { 'webhook-signature': signature } : {}) },
    payload: raw,
  });
const now = () => Math.floor(Date.now() / 1000);
const control = (path: string, body: unknown) =>
  fetch(`${h.sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /webhooks/payments', () => {
  it('refuses a tampered, expired or unsigned event with 401 problem+json', async () => {
    const raw = JSON.stringify({
      id: 'evt_x',
      type: 'charge.succeeded',
      created: now(),
      data: { object: { id: 'ch_x' } },
    });
    const tampered = await post(raw.replace('ch_x', 'ch_y'), signWebhookPayload(raw, WEBHOOK_SECRETS, now()));
    expect(tampered.statusCode).toBe(401);
    expect(tampered.headers['content-type']).toContain('application/problem+json');
    expect(tampered.json().code).toBe('PAYMENTS_WEBHOOK_SIGNATURE_INVALID');
    expect((await post(raw, signWebhookPayload(raw, WEBHOOK_SECRETS, now() - 301))).statusCode).toBe(401);
    expect((await post(raw, undefined)).statusCode).toBe(401);
    expect((await post(raw, signWebhookPayload(raw, ['whsec_someone_else'], now()))).statusCode).toBe(401);
  });

  it('accepts a rotated secret and verifies the raw bytes (136.0 stays 136.0)', async () => {
    const raw =
      '{"id":"evt_raw","type":"charge.pending","created":1,"data":{"object":{"id":"ch_raw","weight":136.0}}}';
    const r = await post(raw, signWebhookPayload(raw, ['whsec_old_secret_0', WEBHOOK_SECRETS[0]!], now()));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ received: true, duplicate: false });
    expect((await post(raw, signWebhookPayload(raw, WEBHOOK_SECRETS, now()))).json()).toEqual({
      received: true,
      duplicate: true,
    });
  });

  it('an older event arriving after a newer one does not move the payment back', async () => {
    const pay = await h.api(
      'POST',
      '/v1/payments',
      { amount: 1800, currency: 'USD', customerId: 'cus_wh', paymentMethod: 'pm_card_visa' },
      { 'idempotency-key': randomUUID() },
    );
    await h.settle();
    const stale = JSON.stringify({
      id: `evt_stale_${randomUUID()}`,
      type: 'charge.pending',
      created: 1,
      data: {
        object: {
          id: pay.body.providerChargeId,
          status: 'pending',
          amount: 1800,
          currency: 'usd',
          amount_refunded: 0,
          failure_code: null,
          failure_message: null,
          metadata: { carebridge_payment_id: pay.body.id },
        },
      },
    });
    expect((await post(stale, signWebhookPayload(stale, WEBHOOK_SECRETS, now()))).statusCode).toBe(200);
    await h.settle();
    expect((await h.api('GET', `/v1/payments/${pay.body.id}`)).body.status).toBe('succeeded');
  });

  it('duplicated and reordered deliveries are applied once: one receipt, one metric per payment and refund', async () => {
    await control('/_sandbox/webhooks', { duplicateProbability: 1, reorderMaxDelayMs: 150 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await h.api(
        'POST',
        '/v1/payments',
        {
          amount: 2000 + i,
          currency: 'USD',
          customerId: 'cus_dup',
          paymentMethod: 'pm_card_riskLevelElevated',
          receiptEmail: 'dup@example.com',
        },
        { 'idempotency-key': randomUUID() },
      );
      expect(p.body.status).toBe('pending');
      ids.push(p.body.id);
    }
    await control('/_sandbox/clock', { advanceSeconds: 3600 });
    await h.settle();
    for (const id of ids) {
      expect((await h.api('GET', `/v1/payments/${id}`)).body.status).toBe('succeeded');
      const r = await h.api(
        'POST',
        `/v1/payments/${id}/refunds`,
        { amount: 500 },
        { 'idempotency-key': randomUUID() },
      );
      expect(r.body.status).toBe('succeeded');
    }
    await h.settle();
    const { rows: metrics } = await h.gateway.store.query<{ payload: any }>(
      "SELECT payload FROM outbox WHERE destination = 'kafka:business_metrics'",
    );
    for (const id of ids) {
      expect(
        metrics
          .filter((m) => m.payload.attributes.paymentId === id)
          .map((m) => m.payload.name)
          .sort(),
      ).toEqual(['payment_succeeded', 'refund_succeeded']);
    }
    const { rows: mails } = await h.gateway.store.query<{ correlation_id: string }>(
      'SELECT correlation_id FROM notifications WHERE correlation_id = ANY($1)',
      [ids],
    );
    expect(mails).toHaveLength(ids.length * 2);
    const { rows: events } = await h.gateway.store.query<{ n: string; d: string }>(
      "SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM webhook_events WHERE provider = 'payments'",
    );
    expect(Number(events[0]!.n)).toBe(Number(events[0]!.d));
    const deliveries = h.sandbox.webhooks.log.filter((d) => d.status === 200).length;
    expect(deliveries).toBeGreaterThan(Number(events[0]!.n));
  });
});
