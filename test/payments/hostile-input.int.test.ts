import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/kernel/store/store.js';
import { signWebhookPayload } from '../../src/protocols/signing/index.js';
import { dropTestSchemas, storeFactories } from '../support/stores.js';
import { type PaymentsHarness, startHarness, WEBHOOK_SECRETS } from './harness.js';

/**
 * Characters Postgres cannot store (U+0000; an unpaired surrogate in jsonb) and ids longer than an index row
 * are refused at the edge with a 400 naming the field, before any lookup or write, on PGlite and Postgres.
 */
afterAll(() => dropTestSchemas());

for (const factory of storeFactories) {
  describe(`hostile input to the payments routes (${factory.name})`, () => {
    let store: Store;
    let h: PaymentsHarness;
    beforeAll(async () => {
      store = await factory.open();
      h = await startHarness({ store, webhooks: false });
    });
    afterAll(async () => {
      await h?.close();
      await store?.close();
    });

    const key = () => ({ 'idempotency-key': randomUUID() });
    const pay = (patch: Record<string, unknown> = {}) => ({
      amount: 1250,
      currency: 'USD',
      customerId: 'cus_hostile',
      paymentMethod: 'pm_card_visa',
      ...patch,
    });
    const expectRefused = (res: { status: number; body: Record<string, unknown> }, field: string) => {
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ code: 'PAYMENTS_INVALID_REQUEST', field });
    };

    it('refuses a NUL in a payment id path parameter, and any id not shaped pay_<ULID>', async () => {
      expectRefused(await h.api('GET', '/v1/payments/.%00.'), 'params.id');
      expectRefused(await h.api('GET', '/v1/payments/pay_%00'), 'params.id');
      expectRefused(await h.api('GET', `/v1/payments/pay_${'A'.repeat(90)}`), 'params.id');
      expectRefused(await h.api('GET', '/v1/payments/.%00./refunds'), 'params.id');
      expectRefused(await h.api('POST', '/v1/payments/pay_%00/refunds', {}, key()), 'params.id');
      // A well-formed id that does not exist is still a 404.
      const missing = await h.api('GET', '/v1/payments/pay_01J0000000000000000000000Z');
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('PAYMENTS_NOT_FOUND');
    });

    it('refuses a NUL in the list cursor and customer filter', async () => {
      for (const cursor of ['pay_%00', 'not-a-cursor']) {
        const res = await h.api('GET', `/v1/payments?cursor=${cursor}`);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: 'PAYMENTS_INVALID_CURSOR', field: 'querystring.cursor' });
      }
      expectRefused(await h.api('GET', '/v1/payments?customerId=a%00b'), 'querystring.customerId');
      expect((await h.api('GET', '/v1/payments?limit=1')).status).toBe(200);
    });

    it('refuses NUL and unpaired surrogates in JSON strings of a payment, naming the field', async () => {
      expectRefused(
        await h.api('POST', '/v1/payments', pay({ customerId: 'a\u0000b' }), key()),
        'body.customerId',
      );
      expectRefused(
        await h.api('POST', '/v1/payments', pay({ description: 'x\ud800y' }), key()),
        'body.description',
      );
      expectRefused(
        await h.api('POST', '/v1/payments', pay({ metadata: { order: 'a\u0000' } }), key()),
        'body.metadata.order',
      );
      expectRefused(
        await h.api('POST', '/v1/payments', pay({ customerId: 'c'.repeat(256) }), key()),
        'body.customerId',
      );
      const { rows } = await store.query("SELECT id FROM payments WHERE customer_id LIKE 'a%'");
      expect(rows).toEqual([]);
    });

    it('refuses malformed subscription ids and NUL in subscription fields', async () => {
      expectRefused(await h.api('GET', '/v1/subscriptions/sub_%00'), 'params.id');
      expectRefused(await h.api('DELETE', '/v1/subscriptions/.%00.'), 'params.id');
      expectRefused(
        await h.api(
          'POST',
          '/v1/subscriptions',
          { customerId: 'cus_\u0000', priceId: 'price_basic_monthly', paymentMethod: 'pm_card_visa' },
          key(),
        ),
        'body.customerId',
      );
    });

    describe('a signed webhook', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const post = (event: unknown) => {
        const raw = JSON.stringify(event);
        return h.gateway.app.inject({
          method: 'POST',
          url: '/webhooks/payments',
          headers: {
            'content-type': 'application/json',
            'webhook-signature': signWebhookPayload(raw, WEBHOOK_SECRETS, now()),
          },
          payload: raw,
        });
      };
      const event = (patch: Record<string, unknown> = {}, object: Record<string, unknown> = {}) => ({
        id: `evt_${randomUUID()}`,
        type: 'charge.succeeded',
        created: now(),
        data: { object: { id: 'ch_hostile', ...object } },
        ...patch,
      });
      const expectWebhookRefused = async (res: Awaited<ReturnType<typeof post>>, field: string) => {
        expect(res.statusCode, res.body).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(res.json()).toMatchObject({ code: 'PAYMENTS_INVALID_REQUEST', field });
      };

      it('whose event id holds a NUL or is 10 KB long is a 400 problem, and nothing is stored', async () => {
        await expectWebhookRefused(await post(event({ id: 'evt_\u0000' })), 'id');
        await expectWebhookRefused(await post(event({ id: `evt_${'x'.repeat(10_000)}` })), 'id');
        await expectWebhookRefused(await post(event({ id: 'evt_\ud800' })), 'id');
        const { rows } = await store.query(
          "SELECT event_id FROM webhook_events WHERE event_id LIKE 'evt\\_%'",
        );
        expect(rows).toEqual([]);
      });

      it('with a malformed type or object id is a 400 naming the field', async () => {
        await expectWebhookRefused(await post(event({ type: 'charge.\u0000' })), 'type');
        await expectWebhookRefused(
          await post(event({}, { id: `ch_${'y'.repeat(10_000)}` })),
          'data.object.id',
        );
        await expectWebhookRefused(
          await post(event({}, { metadata: { carebridge_payment_id: 'pay_\u0000' } })),
          'data.object.metadata.carebridge_payment_id',
        );
      });

      it('that is well formed is still accepted', async () => {
        const res = await post(event());
        expect(res.statusCode, res.body).toBe(200);
        await h.webhooks.idle();
      });
    });
  });
}
