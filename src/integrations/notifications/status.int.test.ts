import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../kernel/store/index.js';
import { enqueueNotification, getNotificationStatus, markPublished } from './ledger.js';
import { applyStatusReport } from './status.js';

afterAll(dropTestSchemas);

describe.each(storeFactories)('delivery reports on $name', (factory) => {
  let store: Store;
  beforeAll(async () => {
    store = await factory.open();
  });
  afterAll(async () => {
    await store.close();
  });

  it('stamps every step when reports are applied out of order', async () => {
    const { id } = await store.transaction((tx) =>
      enqueueNotification(tx, { channel: 'sms', to: '+15005550006', text: 'hi' }),
    );
    const base = { schemaVersion: 1 as const, notificationId: id, at: new Date().toISOString(), attempt: 1 };
    await applyStatusReport(store, { ...base, status: 'delivered' }, `${id}:d`);
    await applyStatusReport(store, { ...base, status: 'sent' }, `${id}:s`);
    const s = await getNotificationStatus(store, id);
    expect(s.status).toBe('delivered');
    expect(Object.keys(s.timestamps).sort()).toEqual(['accepted', 'delivered', 'queued', 'sent']);
  });

  it('follows delivery reports through the lifecycle, once per report id', async () => {
    const { id } = await store.transaction((tx) =>
      enqueueNotification(tx, { channel: 'sms', to: '+15005550006', text: 'hi' }),
    );
    expect(await markPublished(store, [{ id, destination: 'rabbitmq:sms_notifications' }])).toBe(1);
    const at = new Date().toISOString();
    const sent = {
      schemaVersion: 1 as const,
      notificationId: id,
      status: 'sent' as const,
      at,
      attempt: 1,
      provider: 'sandbox-sms',
      providerMessageId: 'SM1',
    };
    expect(await applyStatusReport(store, sent, 'r1')).toBe('applied');
    expect(await applyStatusReport(store, sent, 'r1')).toBe('duplicate');
    expect(await applyStatusReport(store, { ...sent, status: 'delivered' }, 'r2')).toBe('applied');
    expect(await applyStatusReport(store, { ...sent, notificationId: 'ntf_missing' }, 'r3')).toBe(
      'unknown_notification',
    );
    const s = await getNotificationStatus(store, id);
    expect(s.status).toBe('delivered');
    expect(Object.keys(s.timestamps).sort()).toEqual(['accepted', 'delivered', 'queued', 'sent']);
    expect(s.providerMessageId).toBe('SM1');
  });
});
