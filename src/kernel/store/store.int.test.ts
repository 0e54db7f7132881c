import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories } from '../../../test/support/stores.js';
import { MIGRATIONS } from '../../cli/migrations.js';
import { migrate } from './migrate.js';

afterAll(dropTestSchemas);

describe.each(storeFactories)('store on $name', (factory) => {
  it('applies every migration once and records it', async () => {
    const store = await factory.open();
    try {
      const all = [...MIGRATIONS].sort((a, b) => a.version - b.version);
      const { rows } = await store.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
      expect((await migrate(store, MIGRATIONS)).applied).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const store = await factory.open();
    try {
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
    } finally {
      await store.close();
    }
  });

  it('returns jsonb as objects and bigint counts as numbers', async () => {
    const store = await factory.open();
    try {
      await store.query('INSERT INTO outbox (id, destination, payload) VALUES ($1, $2, $3)', [
        'o1',
        'q',
        { a: 1 },
      ]);
      const { rows } = await store.query<{ payload: unknown; n: number }>(
        'SELECT payload, (SELECT count(*) FROM outbox) AS n FROM outbox',
      );
      expect(rows[0]).toEqual({ payload: { a: 1 }, n: 1 });
    } finally {
      await store.close();
    }
  });
});
