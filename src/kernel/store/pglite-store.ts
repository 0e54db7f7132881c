import { mkdirSync } from 'node:fs';
import { PGlite, protocol, TransactionAbortedError } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import type { OutboxDestinations } from './outbox-destinations.js';
import { ensureDatabase, freshDatabase } from './pglite-initdb.js';
import { PgliteStatements } from './pglite-statements.js';
import type { Queryable, QueryResult, Store } from './store.js';

/**
 * PGlite starts Postgres with its own defaults (`PGlite.defaultStartParams`: single user, fsync off, no worker
 * processes); these are added. `shared_buffers` 32 MB instead of Postgres' 128 MB: the buffer pool is memory
 * PGlite touches at start (resident ~360 → ~260 MB measured), and the embedded store is for development-sized
 * data — larger data belongs in Postgres (docs/operations.md).
 */
const PGLITE_START_PARAMS: string[] = [
  ...(PGlite as unknown as { defaultStartParams: string[] }).defaultStartParams,
  '-c',
  'shared_buffers=32MB',
];
const BEGIN = protocol.serialize.query('BEGIN');

/**
 * The embedded store: real Postgres compiled to WASM, in this process. One connection, so statements
 * run one at a time; `transaction` holds it for the whole transaction.
 */
export class PgliteStore implements Store {
  readonly kind = 'pglite' as const;
  readonly target: string;
  private readonly db: PGlite;
  private readonly statements: PgliteStatements;
  private closed = false;
  /** The outbox destinations `enqueue` accepts (see Queryable.outbox). */
  readonly outbox: OutboxDestinations | undefined;
  private unlock: () => void = () => {};

  private constructor(db: PGlite, target: string, outbox: OutboxDestinations | undefined) {
    this.db = db;
    this.target = target;
    this.outbox = outbox;
    this.statements = new PgliteStatements(db);
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
    const memory = dataDir.startsWith('memory://');
    if (!memory) {
      mkdirSync(dataDir, { recursive: true });
      await ensureDatabase(dataDir);
    }
    const db = await PGlite.create({
      ...(memory ? { loadDataDir: await freshDatabase() } : { dataDir }),
      startParams: PGLITE_START_PARAMS,
    });
    await db.exec("SET TIME ZONE 'UTC'");
    return new PgliteStore(db, memory ? 'pglite:memory' : `pglite:${dataDir}`, opts.outbox);
  }

  /**
   * PGlite's own locks, as `PGlite.query` and `PGlite.transaction` take them: the transaction lock keeps other
   * callers out between a transaction's statements, the query lock serializes calls into the engine.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('PGlite store is closed'));
    return this.db._runExclusiveTransaction(() => this.db._runExclusiveQuery(fn));
  }

  query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    return this.exclusive(() => this.statements.run<T>(sql, params));
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  /** BEGIN goes out with the first statement, COMMIT on its own: k statements are k + 1 calls into the engine. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('PGlite store is closed'));
    return this.db._runExclusiveTransaction(async () => {
      let begun = false;
      let done = false;
      const open = () => {
        if (done) throw new Error('transaction is closed');
        const begin = begun ? undefined : BEGIN;
        begun = true;
        return begin;
      };
      const tx: Queryable = {
        outbox: this.outbox,
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          const begin = open();
          return this.db._runExclusiveQuery(() => this.statements.run<R>(sql, params, begin));
        },
        exec: async (sql: string) => {
          const begin = open();
          await this.db._runExclusiveQuery(async () => {
            if (begin) await this.statements.simple('BEGIN');
            await this.statements.simple(sql);
          });
        },
      };
      try {
        const result = await fn(tx);
        done = true;
        if (begun) {
          const commit = await this.db._runExclusiveQuery(() => this.statements.simple('COMMIT'));
          // COMMIT of a transaction a failed statement aborted answers ROLLBACK.
          if (commit.command === 'ROLLBACK') throw new TransactionAbortedError();
        }
        return result;
      } catch (err) {
        if (begun && !done) {
          done = true;
          await this.db._runExclusiveQuery(() => this.statements.simple('ROLLBACK')).catch(() => {});
        }
        throw err;
      }
    });
  }

  async ping(): Promise<void> {
    await this.query('SELECT 1');
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
