import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/stores.js';
import type { Store } from '../../kernel/store/index.js';
import { NotificationIntegration } from './integration.js';

describe('NotificationIntegration', () => {
  let store: Store;
  const reads: string[] = [];
  /** The store, counting the statements that read notifications back outside a transaction. */
  let counting: Store;

  beforeAll(async () => {
    store = await storeFactories[0]!.open(); // PGlite, migrated
    counting = Object.assign(Object.create(store) as Store, {
      query: (sql: string, params?: readonly unknown[]) => {
        if (/^SELECT .* FROM notifications/.test(sql)) reads.push(sql);
        return store.query(sql, params);
      },
      transaction: store.transaction.bind(store),
    });
  });
  afterAll(() => store.close());

  it('sends on the channel it is given', async () => {
    const n = new NotificationIntegration({ store: counting });
    const sms = await n.sendSms({ to: '+15005550006', text: 'Refill ready' });
    expect(sms).toMatchObject({ channel: 'sms', status: 'accepted', recipient: '+*******0006' });
    const push = await n.sendPush({ deviceToken: 'fcm_token_0123456789abcdef', title: 't', body: 'b' });
    expect(push.channel).toBe('push');
  });

  it('reads a whole batch back in one query, in the order it was sent', async () => {
    const n = new NotificationIntegration({ store: counting });
    reads.length = 0;
    const items = Array.from({ length: 40 }, (_, i) => ({ to: '+15005550006', text: `message ${i}` }));
    const statuses = await n.sendBatch('sms', items);
    expect(statuses).toHaveLength(40);
    expect(new Set(statuses.map((s) => s.id)).size).toBe(40);
    expect(reads).toHaveLength(1);
    const { rows } = await store.query<{ id: string }>(
      'SELECT id FROM outbox WHERE id = ANY($1::text[]) ORDER BY seq',
      [statuses.map((s) => s.id)],
    );
    expect(statuses.map((s) => s.id)).toEqual(rows.map((r) => r.id));
  });
});
