export { listMigrations, type Migration, migrate } from './migrate.js';
export { type OpenStoreOptions, openStore } from './open.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { PgliteStore } from './pglite-store.js';
export type { Queryable, QueryResult, Store } from './store.js';
