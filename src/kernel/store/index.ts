export type { Store, Queryable, QueryResult } from './store.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { PgliteStore } from './pglite-store.js';
export { openStore, type OpenStoreOptions } from './open.js';
export { migrate, listMigrations, type Migration } from './migrate.js';
