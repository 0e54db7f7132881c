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

  it('answers with the new shape after a table changed under a statement it already ran', async () => {
    await withStore(factory, async (store) => {
      await store.query(
        "INSERT INTO audit_log (actor, action, resource, outcome) VALUES ('t', 'a', 'r', 'ok')",
      );
      const select = 'SELECT * FROM audit_log WHERE actor = $1';
      for (let i = 0; i < 6; i++) expect((await store.query(select, ['t'])).rows).toHaveLength(1);
      await store.exec("ALTER TABLE audit_log ADD COLUMN note text NOT NULL DEFAULT 'n'");
      const { rows } = await store.query<{ note: string }>(select, ['t']);
      expect(rows[0]?.note).toBe('n');
    });
  });

  it('rolls back the whole transaction when one of its statements fails, and goes on serving', async () => {
    await withStore(factory, async (store) => {
      const insert = 'INSERT INTO outbox (id, destination, payload) VALUES ($1, $2, $3)';
      await store.query(insert, ['o1', 'q:x', { n: 1 }]);
      await expect(
        store.transaction(async (tx) => {
          await tx.query(insert, ['o2', 'q:x', { n: 2 }]);
          await tx.query(insert, ['o1', 'q:x', { n: 3 }]); // duplicate key
        }),
      ).rejects.toMatchObject({ code: '23505' });
      await expect(store.query(insert, ['o1', 'q:x', {}])).rejects.toMatchObject({ code: '23505' });
      const { rows } = await store.query<{ id: string }>('SELECT id FROM outbox ORDER BY id');
      expect(rows.map((r) => r.id)).toEqual(['o1']);
      const at = new Date('2026-01-02T03:04:05.678Z');
      const r = await store.transaction(async (tx) => {
        await tx.query('UPDATE outbox SET next_attempt_at = $2, key = $3 WHERE id = $1', ['o1', at, null]);
        return tx.query<{ next_attempt_at: Date; key: string | null }>(
          'SELECT next_attempt_at, key FROM outbox WHERE id = $1',
          ['o1'],
        );
      });
      expect(r.rows[0]).toEqual({ next_attempt_at: at, key: null });
    });
  });
});
