import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import type { OutboxDestinations } from './outbox-destinations.js';
import type { Queryable, QueryResult, Store } from './store.js';

/**
 * The embedded store: real Postgres compiled to WASM, in this process. One connection, so statements
 * run one at a time; `transaction` holds it for the whole transaction.
 */
export class PgliteStore implements Store {
  readonly kind = 'pglite' as const;
  readonly target: string;
  private readonly db: PGlite;
  private closed = false;
  /** The outbox destinations `enqueue` accepts (see Queryable.outbox). */
  readonly outbox: OutboxDestinations | undefined;
  private unlock: () => void = () => {};

  private constructor(db: PGlite, target: string, outbox: OutboxDestinations | undefined) {
    this.db = db;
    this.target = target;
    this.outbox = outbox;
  }

  /**
   * `dataDir` is a folder (created if missing) or `memory://` for a throwaway store. A folder is locked for this
   * process until `close()` (data-dir-lock.ts): a second process fails here with `DataDirLockedError`.
   */
  static async open(dataDir: string, opts: { outbox?: OutboxDestinations } = {}): Promise<PgliteStore> {
    const unlock = dataDir.startsWith('memory://') ? () => {} : lockDataDir(dataDir);
    return PgliteStore.create(dataDir, opts).then(
      (store) => {
        store.unlock = unlock;
        return store;
      },
      (err: unknown) => {
        unlock();
        throw err;
      },
    );
  }

  private static async create(dataDir: string, opts: { outbox?: OutboxDestinations }): Promise<PgliteStore> {
    if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create(dataDir.startsWith('memory://') ? undefined : dataDir);
    await db.exec("SET TIME ZONE 'UTC'");
    const target = dataDir.startsWith('memory://') ? 'pglite:memory' : `pglite:${dataDir}`;
    return new PgliteStore(db, target, opts.outbox);
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.db.query<T>(sql, params as unknown[]);
    return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        outbox: this.outbox,
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          const r = await t.query<R>(sql, params as unknown[]);
          return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
        },
        exec: async (sql: string) => {
          await t.exec(sql);
        },
      }),
    );
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.db.close();
    } finally {
      this.unlock();
    }
  }
}
