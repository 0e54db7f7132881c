import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories, withStore } from '../../../test/support/stores.js';
import { MIGRATIONS } from '../../cli/migrations.js';
import { migrate } from './migrate.js';
import { KERNEL_MIGRATIONS } from './migrations.js';
import { PgliteStore } from './pglite-store.js';

afterAll(dropTestSchemas);

describe.each(storeFactories)('migrate on $name', (factory) => {
  it('applies every migration once and records it', async () => {
    await withStore(factory, async (store) => {
      const all = [...MIGRATIONS].sort((a, b) => a.version - b.version);
      const { rows } = await store.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).toEqual(all.map((m) => m.version));
      expect((await migrate(store, MIGRATIONS)).applied).toEqual([]);
    });
  });
});

describe('migrate', () => {
  it('refuses two migrations with one version before touching the store', async () => {
    const twice = [
      { version: 10, name: 'payments', sql: 'SELECT 1' },
      { version: 10, name: 'shipping', sql: 'SELECT 1' },
    ];
    await expect(migrate(undefined as never, twice)).rejects.toThrow('two migrations share version 10');
  });
});

describe('kernel migration 002', () => {
  it('dead-letters the kafka: rows that waited for good (degraded readiness), and keeps the others pending', async () => {
    const store = await PgliteStore.open('memory://');
    try {
      await migrate(
        store,
        KERNEL_MIGRATIONS.filter((m) => m.version === 1),
      );
      await store.query(
        `INSERT INTO outbox (id, destination, payload) VALUES
           ('m1', 'kafka:business_metrics', '{}'), ('n1', 'rabbitmq:email_notifications', '{}')`,
      );
      await migrate(store, KERNEL_MIGRATIONS);
      const { rows } = await store.query('SELECT id, status, last_error FROM outbox ORDER BY id');
      expect(rows).toEqual([
        { id: 'm1', status: 'dead', last_error: expect.stringContaining('no transport delivers kafka:') },
        { id: 'n1', status: 'pending', last_error: null },
      ]);
    } finally {
      await store.close();
    }
  });
});
