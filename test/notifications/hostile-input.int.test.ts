import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationRoutes } from '../../src/gateway/routes/notifications.js';
import { NotificationIntegration } from '../../src/integrations/notifications/index.js';
import type { Store } from '../../src/kernel/store/store.js';
import { allowAll, buildTestGateway, type TestGateway } from '../support/app.js';
import { dropTestSchemas, storeFactories } from '../support/stores.js';

/** NUL and unpaired surrogates never reach the ledger or the outbox (jsonb): a 400 naming the field. */
afterAll(() => dropTestSchemas());

for (const factory of storeFactories) {
  describe(`hostile input to the notifications routes (${factory.name})`, () => {
    let store: Store;
    let gw: TestGateway;
    beforeAll(async () => {
      store = await factory.open();
      gw = await buildTestGateway({
        store,
        authenticator: allowAll,
        routes: [
          {
            name: 'notifications',
            register: (app, deps) =>
              notificationRoutes(new NotificationIntegration({ store: deps.store })).register(app, deps),
          },
        ],
      });
    });
    afterAll(async () => {
      await gw?.close();
      await store?.close();
    });

    const send = (channel: string, body: unknown) =>
      gw.app.inject({
        method: 'POST',
        url: `/v1/notifications/${channel}`,
        headers: { 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const expectRefused = (res: Awaited<ReturnType<typeof send>>, field: string) => {
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json()).toMatchObject({ code: 'NOTIFICATIONS_INVALID_MESSAGE', field });
    };

    it('refuses a NUL in an SMS text, an email subject or body, and a push field', async () => {
      expectRefused(await send('sms', { to: '+15005550006', text: 'a\u0000b' }), 'body.text');
      expectRefused(await send('sms', { to: '+15005550006', text: 'a\ud800b' }), 'body.text');
      expectRefused(
        await send('email', { to: 'a@example.com', subject: 'hi\u0000', text: 'x' }),
        'body.subject',
      );
      expectRefused(
        await send('email', { to: 'a@example.com', subject: 's', html: '<p>\udc00</p>' }),
        'body.html',
      );
      expectRefused(
        await send('email', {
          to: 'a@example.com',
          subject: 's',
          template: 'payment_receipt',
          variables: { amount: '1\u0000' },
        }),
        'body.variables.amount',
      );
      expectRefused(
        await send('push', {
          deviceToken: 'fcm_token_0123456789abcdef',
          title: 't',
          body: 'b',
          data: { k: 'v\u0000' },
        }),
        'body.data.k',
      );
      expectRefused(
        await send('sms', {
          items: [
            { to: '+15005550006', text: 'ok' },
            { to: '+15005550006', text: '\u0000' },
          ],
        }),
        'body.items.1.text',
      );
      const { rows } = await store.query('SELECT id FROM notifications');
      expect(rows).toEqual([]);
    });

    it('keeps line breaks and tabs in free text', async () => {
      const res = await send('sms', { to: '+15005550006', text: 'line one\nline two\ttabbed 😀' });
      expect(res.statusCode, res.body).toBe(202);
    });

    it('refuses a NUL or a control character in a notification id before any lookup', async () => {
      for (const url of [
        '/v1/notifications/.%00.',
        '/v1/notifications/ntf_%00',
        '/v1/notifications/ntf_a%0Ab',
      ]) {
        const res = await gw.app.inject({ url });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json()).toMatchObject({ code: 'NOTIFICATIONS_INVALID_MESSAGE', field: 'params.id' });
      }
    });
  });
}
