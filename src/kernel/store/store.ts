import type { OutboxDestinations } from './outbox-destinations.js';

/**
 * The one storage API: the same SQL runs on Postgres (`pg`) and on PGlite (embedded, the default).
 * Parameters use `$1, $2, …`; JSON columns are `jsonb`; timestamps are `timestamptz`.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * The outbox destinations this instance delivers (the runtime's transports); `enqueue` refuses any other.
   * The store and each of its transactions carry the one it was opened with; unset (a store opened bare, in a
   * test of one module) nothing is checked.
   */
  readonly outbox?: OutboxDestinations | undefined;
}

export interface Store extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** Where it is (a postgres URL with the password masked, or the PGlite data dir). */
  readonly target: string;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** A cheap round trip for health checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
