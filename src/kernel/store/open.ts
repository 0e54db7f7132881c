import type { Logger } from '../telemetry/index.js';
import type { OutboxDestinations } from './outbox-destinations.js';
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
  /** The destinations `enqueue` accepts on this store (the runtime's transports); unset: not checked. */
  outbox?: OutboxDestinations;
}

/** Postgres when a URL is given, otherwise the embedded PGlite store. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  if (opts.databaseUrl) {
    const store = new PgStore({
      connectionString: opts.databaseUrl,
      poolSize: opts.poolSize ?? 10,
      schema: opts.schema,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.outbox ? { outbox: opts.outbox } : {}),
    });
    await store.ping();
    return store;
  }
  return PgliteStore.open(opts.dataDir, opts.outbox ? { outbox: opts.outbox } : {});
}
