import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories, withStore } from '../../../test/support/stores.js';
import { MIGRATIONS } from '../../cli/migrations.js';
import { migrate } from './migrate.js';

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
