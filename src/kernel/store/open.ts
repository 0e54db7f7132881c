import { PgStore } from './pg-store.js';
import { PgliteStore } from './pglite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
  schema?: string;
}

/** Postgres when a URL is given, otherwise the embedded PGlite store. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const store = new PgStore({
      connectionString: opts.databaseUrl,
      poolSize: opts.poolSize ?? 10,
      schema: opts.schema,
    });
    await store.ping();
    return store;
  }
  return PgliteStore.open(opts.dataDir);
}
