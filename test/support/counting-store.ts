import type { Queryable, QueryResult, Store } from '../../src/kernel/store/store.js';

export interface CountingStore extends Store {
  /**
   * Every round trip to the database since the last `reset()`, in order, as the statement's first words
   * (`INSERT INTO payments`, `SELECT … FROM payments`, `BEGIN`, `COMMIT`): a transaction's BEGIN and COMMIT
   * count, as they are round trips on Postgres.
   */
  readonly statements: string[];
  reset(): void;
}

function label(sql: string): string {
  const s = sql.replace(/\s+/g, ' ').trim();
  const table = /\b(?:FROM|INTO|UPDATE)\s+([a-z_]+)/i.exec(s)?.[1];
  const verb = s.split(' ')[0]!.toUpperCase();
  return table ? `${verb} ${table}` : verb;
}

/** Wraps a store and records every statement it runs (the query-count test of the hot routes). */
export function countingStore(inner: Store): CountingStore {
  const statements: string[] = [];
  const counted = (q: Queryable): Queryable => ({
    query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      statements.push(label(sql));
      return q.query<T>(sql, params);
    },
    exec(sql: string) {
      statements.push(label(sql));
      return q.exec(sql);
    },
  });
  const outer = counted(inner);
  return {
    kind: inner.kind,
    target: inner.target,
    statements,
    reset: () => {
      statements.length = 0;
    },
    query: outer.query,
    exec: outer.exec,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      statements.push('BEGIN');
      try {
        return await inner.transaction((tx) => fn(counted(tx)));
      } finally {
        statements.push('COMMIT');
      }
    },
    ping: () => {
      statements.push('SELECT 1');
      return inner.ping();
    },
    close: () => inner.close(),
  };
}
