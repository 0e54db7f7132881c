import type { Logger } from '../telemetry/index.js';
import { PgStore } from './pg-store.js';
import { PgliteStore } from './pglite-store.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  poolSize?: number;
  schema?: string;
  /** Postgres warns through it once per distinct reason it is unusable. */
  logger?: Logger;
}

/** Postgres when a URL is given, otherwise the embedded PGlite store. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const store = new PgStore({
      connectionString: opts.databaseUrl,
      poolSize: opts.poolSize ?? 10,
      schema: opts.schema,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    await store.ping();
    return store;
  }
  return PgliteStore.open(opts.dataDir);
}
