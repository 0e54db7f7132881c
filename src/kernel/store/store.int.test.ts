import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories, withStore } from '../../../test/support/stores.js';

afterAll(dropTestSchemas);

describe.each(storeFactories)('store on $name', (factory) => {
  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await withStore(factory, async (store) => {
      await store.transaction(async (tx) => {
        await tx.query(
          "INSERT INTO audit_log (actor, action, resource, outcome) VALUES ('t', 'a', 'r', 'ok')",
        );
      });
      await expect(
        store.transaction(async (tx) => {
          await tx.query(
            "INSERT INTO audit_log (actor, action, resource, outcome) VALUES ('t', 'b', 'r', 'ok')",
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await store.query<{ action: string }>('SELECT action FROM audit_log ORDER BY id');
      expect(rows.map((r) => r.action)).toEqual(['a']);
    });
  });

  it('returns jsonb as objects and bigint counts as numbers', async () => {
    await withStore(factory, async (store) => {
      await store.query('INSERT INTO outbox (id, destination, payload) VALUES ($1, $2, $3)', [
        'o1',
        'q',
        { a: 1 },
      ]);
      const { rows } = await store.query<{ payload: unknown; n: number }>(
        'SELECT payload, (SELECT count(*) FROM outbox) AS n FROM outbox',
      );
      expect(rows[0]).toEqual({ payload: { a: 1 }, n: 1 });
    });
  });
});
