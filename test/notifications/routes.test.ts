import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationRoutes } from '../../src/gateway/routes/notifications.js';
import type { Authenticator } from '../../src/gateway/types.js';
import { NotificationIntegration } from '../../src/integrations/notifications/index.js';
import { buildTestGateway, type TestGateway } from '../support/app.js';

/**
 * The HTTP surface alone (no broker needed: a send only writes the ledger and the outbox). The callers hold
 * `notifications:send` and `notifications:read` unless the test says otherwise.
 */
const perms = new Set(['notifications:send', 'notifications:read']);
const authenticator: Authenticator = {
  async authenticate(request) {
    return { subject: String(request.headers['x-test-user'] ?? 'pharmacist-1'), kind: 'user', roles: [] };
  },
  async authorize(principal, permission) {
    return principal.subject !== 'reader' ? perms.has(permission) : permission === 'notifications:read';
  },
};

describe('POST/GET /v1/notifications', () => {
  let gw: TestGateway;
  let integration: NotificationIntegration;

  beforeAll(async () => {
    gw = await buildTestGateway({
      authenticator,
      routes: [
        {
          name: 'notifications',
          register: (app, deps) => {
            integration = new NotificationIntegration({ store: deps.store });
            return notificationRoutes(integration).register(app, deps);
          },
        },
      ],
    });
  });
  afterAll(async () => {
    await gw?.close();
  });

  const post = (path: string, body: unknown, key: string | null = crypto.randomUUID(), user?: string) =>
    gw.app.inject({
      method: 'POST',
      url: `/v1/notifications/${path}`,
      payload: body as object,
      headers: {
        authorization: 'Bearer t',
        ...(key ? { 'idempotency-key': key } : {}),
        ...(user ? { 'x-test-user': user } : {}),
      },
    });

  it('accepts an email with 202 and shows its status', async () => {
    const res = await post('email', {
      to: 'patient.two@example.com',
      subject: 'Hello',
      text: 'Your order shipped',
    });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toMatchObject({
      channel: 'email',
      status: 'accepted',
      recipient: 'p**********@example.com',
    });
    expect(res.headers.location).toBe(`/v1/notifications/${body.id}`);
    const got = await gw.app.inject({
      method: 'GET',
      url: `/v1/notifications/${body.id}`,
      headers: { authorization: 'Bearer t' },
    });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: body.id, status: 'accepted' });
    const outbox = await gw.store.query<{ destination: string }>(
      'SELECT destination FROM outbox WHERE id = $1',
      [body.id],
    );
    expect(outbox.rows[0]?.destination).toBe('rabbitmq:email_notifications');
  });

  it('replays the first answer for the same Idempotency-Key instead of sending twice', async () => {
    const key = crypto.randomUUID();
    const a = await post('sms', { to: '+15005550006', text: 'Refill ready' }, key);
    const b = await post('sms', { to: '+15005550006', text: 'Refill ready' }, key);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json().id).toBe(a.json().id);
    const c = await post('sms', { to: '+15005550006', text: 'Something else' }, key);
    expect(c.statusCode).toBe(422);
    expect((await post('sms', { to: '+15005550006', text: 'x' }, null)).json().code).toBe(
      'IDEMPOTENCY_KEY_REQUIRED',
    );
  });

  it('accepts a batch of push notifications in one call, and refuses more than 500', async () => {
    const item = { deviceToken: 'fcm_token_0123456789abcdef', title: 'Refill', body: 'Ready' };
    const ok = await post('push', { items: [item, { ...item, data: { orderId: 'ord_1' } }] });
    expect(ok.statusCode).toBe(202);
    expect(ok.json().items).toHaveLength(2);
    const tooMany = await post('push', { items: Array.from({ length: 501 }, () => item) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().code).toBe('NOTIFICATIONS_INVALID_MESSAGE');
  });

  it('refuses invalid recipients and unknown templates with the field named', async () => {
    const badPhone = await post('sms', { to: '555-0100', text: 'x' });
    expect(badPhone.statusCode).toBe(400);
    expect(badPhone.json().code).toBe('NOTIFICATIONS_INVALID_MESSAGE');
    const badTemplate = await post('email', {
      to: 'a@example.com',
      subject: 's',
      template: 'no_such_template',
    });
    expect(badTemplate.statusCode).toBe(400);
    expect(badTemplate.json().code).toBe('NOTIFICATIONS_TEMPLATE_UNKNOWN');
  });

  it('refuses an email part over 256 KiB with 413 naming that part and the limit', async () => {
    const big = 'x'.repeat(256 * 1024 + 1);
    for (const [body, field] of [
      [{ text: big }, 'text'],
      [{ text: 'short', html: `<p>${big}</p>` }, 'html'],
      [
        {
          template: 'prescription_ready',
          variables: { firstName: big.slice(0, 10_000) },
          text: `{{firstName}}`.repeat(27),
        },
        'text',
      ],
    ] as const) {
      const res = await post('email', { to: 'a@example.com', subject: 's', ...body });
      expect(res.statusCode, field).toBe(413);
      expect(res.json(), field).toMatchObject({
        code: 'NOTIFICATIONS_MESSAGE_TOO_LARGE',
        field,
        limitBytes: 262_144,
      });
      expect(res.json().detail).toContain('262144 bytes');
    }
    const batch = await post('email', {
      items: [
        { to: 'a@example.com', subject: 's', text: 'ok' },
        { to: 'b@example.com', subject: 's', html: big },
      ],
    });
    expect(batch.statusCode).toBe(413);
    expect(batch.json()).toMatchObject({ field: 'items.1.html', limitBytes: 262_144 });
    // The limit is per part: text and html of 200 KiB each are accepted.
    const both = await post('email', {
      to: 'a@example.com',
      subject: 's',
      text: 'y'.repeat(200 * 1024),
      html: 'z'.repeat(200 * 1024),
    });
    expect(both.statusCode, both.body).toBe(202);
  });

  it('publishes the routes and their schemas in the OpenAPI document', async () => {
    const res = await gw.app.inject({ url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/v1/notifications/email',
        '/v1/notifications/sms',
        '/v1/notifications/push',
        '/v1/notifications/{id}',
      ]),
    );
    expect(JSON.stringify(paths['/v1/notifications/sms'])).toContain('E.164');
  });

  it('answers 404 for an unknown id and 403 without notifications:send', async () => {
    const missing = await gw.app.inject({
      method: 'GET',
      url: '/v1/notifications/ntf_nope',
      headers: { authorization: 'Bearer t' },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('NOTIFICATIONS_NOT_FOUND');
    const forbidden = await post('sms', { to: '+15005550006', text: 'x' }, crypto.randomUUID(), 'reader');
    expect(forbidden.statusCode).toBe(403);
  });
});
