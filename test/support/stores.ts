import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { MIGRATIONS } from '../../src/cli/migrations.js';
import { migrate } from '../../src/kernel/store/migrate.js';
import type { OutboxDestinations } from '../../src/kernel/store/outbox-destinations.js';
import { PgStore } from '../../src/kernel/store/pg-store.js';
import { PgliteStore } from '../../src/kernel/store/pglite-store.js';
import type { Store } from '../../src/kernel/store/store.js';

/** The real Postgres on this machine (override with TEST_DATABASE_URL). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface StoreFactory {
  name: 'pglite' | 'postgres';
  /**
   * A fresh, migrated store isolated from every other test (own PGlite, or own Postgres schema); with
   * `outbox`, `enqueue` on it accepts only those destinations, as in a runtime.
   */
  open(opts?: { outbox?: OutboxDestinations }): Promise<Store>;
}

const schemas: string[] = [];

export const storeFactories: StoreFactory[] = [
  {
    name: 'pglite',
    async open(opts = {}) {
      const s = await PgliteStore.open('memory://', opts);
      await migrate(s, MIGRATIONS);
      return s;
    },
  },
  {
    name: 'postgres',
    async open(opts = {}) {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      await admin.end();
      schemas.push(schema);
      const s = new PgStore({ connectionString: TEST_DATABASE_URL, schema, poolSize: 8, ...opts });
      await migrate(s, MIGRATIONS);
      return s;
    },
  },
];

/** The real-Postgres factory, for tests about concurrency that PGlite (one connection) cannot show. */
export const postgresStores = storeFactories.find((f) => f.name === 'postgres') as StoreFactory;

/** Runs `fn` with a fresh, migrated store from `factory` and closes the store afterwards, whatever happens. */
export async function withStore<T>(
  factory: StoreFactory,
  fn: (store: Store) => Promise<T>,
  opts: { outbox?: OutboxDestinations } = {},
): Promise<T> {
  const store = await factory.open(opts);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Drops the Postgres schemas this process created (call from afterAll). */
export async function dropTestSchemas(): Promise<void> {
  if (schemas.length === 0) return;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  for (const s of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
}
