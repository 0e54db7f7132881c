import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../kernel/store/index.js';
import { enqueueNotification, getNotificationStatus, markPublished } from './ledger.js';
import type { NotificationInput } from './schemas.js';

afterAll(dropTestSchemas);

describe.each(storeFactories)('notification ledger on $name', (factory) => {
  let store: Store;
  beforeAll(async () => {
    store = await factory.open();
  });
  afterAll(async () => {
    await store.close();
  });

  it('writes the ledger row and the outbox row in the caller transaction', async () => {
    const { id } = await store.transaction((tx) =>
      enqueueNotification(
        tx,
        {
          channel: 'email',
          to: 'patient.one@example.com',
          subject: 'Receipt {{paymentId}}',
          template: 'payment_receipt',
          variables: { amount: '12.50', currency: 'USD', paymentId: 'pay_1' },
        },
        { correlationId: 'pay_1' },
      ),
    );
    expect(id).toMatch(/^ntf_[0-9A-Z]{26}$/);
    const status = await getNotificationStatus(store, id);
    expect(status).toMatchObject({
      status: 'accepted',
      channel: 'email',
      recipient: 'p**********@example.com',
      correlationId: 'pay_1',
      template: 'payment_receipt',
    });
    const { rows } = await store.query<{
      destination: string;
      payload: { content: { subject: string; text: string; html: string } };
    }>('SELECT destination, payload FROM outbox WHERE id = $1', [id]);
    expect(rows[0]?.destination).toBe('rabbitmq:email_notifications');
    expect(rows[0]?.payload.content.subject).toBe('Receipt pay_1');
    expect(rows[0]?.payload.content.text).toContain('12.50 USD');
  });

  it('writes nothing when the caller transaction rolls back', async () => {
    let id = '';
    await expect(
      store.transaction(async (tx) => {
        id = (
          await enqueueNotification(tx, { channel: 'sms', to: '+15005550006', text: 'Your order shipped' })
        ).id;
        throw new Error('business write failed');
      }),
    ).rejects.toThrow('business write failed');
    const { rows } = await store.query(
      'SELECT id FROM outbox WHERE id = $1 UNION ALL SELECT id FROM notifications WHERE id = $1',
      [id],
    );
    expect(rows).toHaveLength(0);
  });

  it('refuses invalid recipients, unknown templates and missing variables before writing', async () => {
    const email = { channel: 'email' as const, to: 'a@example.com', subject: 's' };
    const fiveKb = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((k) => [k, k.repeat(1000)]));
    const refused: Array<[NotificationInput, Record<string, unknown>]> = [
      [
        { channel: 'sms', to: '5550006', text: 'x' },
        { code: 'NOTIFICATIONS_INVALID_MESSAGE', details: { field: 'to' } },
      ],
      [{ ...email, template: 'nope' }, { code: 'NOTIFICATIONS_TEMPLATE_UNKNOWN' }],
      [
        { ...email, template: 'payment_receipt', variables: { amount: 1 } },
        { code: 'NOTIFICATIONS_TEMPLATE_VARIABLE_MISSING', details: { missing: ['currency', 'paymentId'] } },
      ],
      [
        { channel: 'push', deviceToken: 'tok_abcdefghijklmnop', title: 't', body: 'b', data: fiveKb },
        { code: 'NOTIFICATIONS_MESSAGE_TOO_LARGE' },
      ],
    ];
    const before = (await store.query('SELECT id FROM notifications')).rows.length;
    for (const [input, error] of refused) {
      await expect(store.transaction((tx) => enqueueNotification(tx, input))).rejects.toMatchObject(error);
    }
    expect((await store.query('SELECT id FROM notifications')).rows).toHaveLength(before);
  });

  it('returns the existing notification for a repeated explicit id without a second outbox row', async () => {
    const input = {
      channel: 'push' as const,
      deviceToken: 'tok_abcdefghijklmnop',
      title: 'Refill',
      body: 'Ready',
    };
    const a = await store.transaction((tx) => enqueueNotification(tx, input, { id: 'ntf_receipt_pay_1' }));
    const b = await store.transaction((tx) => enqueueNotification(tx, input, { id: 'ntf_receipt_pay_1' }));
    expect([a.duplicate, b.duplicate]).toEqual([false, true]);
    expect((await store.query("SELECT id FROM outbox WHERE id = 'ntf_receipt_pay_1'")).rows).toHaveLength(1);
  });

  it('marks only the confirmed notifications queued, not other rabbitmq: rows', async () => {
    const { id } = await store.transaction((tx) =>
      enqueueNotification(tx, { channel: 'sms', to: '+15005550006', text: 'Your order shipped' }),
    );
    const confirmed = [
      { id, destination: 'rabbitmq:sms_notifications' },
      { id: 'evt_other', destination: 'rabbitmq:audit_events' },
    ];
    expect(await markPublished(store, confirmed)).toBe(1);
    expect((await getNotificationStatus(store, id)).status).toBe('queued');
    expect(await markPublished(store, confirmed)).toBe(0);
  });
});
