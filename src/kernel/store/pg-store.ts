import { createHash } from 'node:crypto';
import pg from 'pg';
import { maskUrl } from '../config/index.js';
import { errors } from '../errors/index.js';
import { FailureReporter, type Logger } from '../telemetry/index.js';
import type { OutboxDestinations } from './outbox-destinations.js';
import { describePgFailure } from './pg-failure.js';
import type { Queryable, QueryResult, Store } from './store.js';

// Bigints (COUNT, bigint columns) as JS numbers: our counts and minor-unit amounts stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export interface PgStoreOptions {
  connectionString: string;
  poolSize?: number;
  /** Postgres schema to use (tests give each suite its own). */
  schema?: string;
  statementTimeoutMs?: number;
  /** Warns once per distinct reason `ping` fails for (a wrong DATABASE_URL, the server down). */
  logger?: Logger;
  /** The outbox destinations `enqueue` accepts on this store and its transactions (see Queryable.outbox). */
  outbox?: OutboxDestinations;
  /**
   * Named prepared statements, one per SQL text and connection (pg parses each once per connection and Postgres
   * keeps its plan): ~20–30 % less Postgres CPU for a single-row read on the development machine (issue #14).
   * Default true; at most MAX_NAMED distinct texts get a name, the rest run unnamed.
   */
  preparedStatements?: boolean;
}

/** Distinct SQL texts that get a statement name (ours are a few dozen; dynamic IN lists could be more). */
const MAX_NAMED = 1_000;
/** Postgres: a kept plan no longer fits (a table's columns changed under it). */
const STALE_PLAN = '0A000';

export class PgStore implements Store {
  readonly kind = 'pg' as const;
  readonly target: string;
  readonly outbox: OutboxDestinations | undefined;
  private readonly pool: pg.Pool;
  private readonly failures: FailureReporter | undefined;

  constructor(private readonly opts: PgStoreOptions) {
    this.target = String(maskUrl(opts.connectionString));
    this.outbox = opts.outbox;
    this.failures = opts.logger
      ? new FailureReporter({ dependency: 'Postgres', target: opts.connectionString, logger: opts.logger })
      : undefined;
    const options: string[] = [];
    if (opts.schema) options.push(`-c search_path=${opts.schema}`);
    options.push(`-c statement_timeout=${opts.statementTimeoutMs ?? 30_000}`);
    this.pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.poolSize ?? 10,
      options: options.join(' '),
      connectionTimeoutMillis: 5_000,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => {});
  }

  /** Statement names by SQL text; texts whose kept plan went stale run unnamed from then on. */
  private readonly names = new Map<string, string>();
  private readonly unnamed = new Set<string>();

  private statement(sql: string, params: readonly unknown[]): pg.QueryConfig | string {
    if (this.opts.preparedStatements === false || this.unnamed.has(sql)) return sql;
    let name = this.names.get(sql);
    if (!name) {
      if (this.names.size >= MAX_NAMED) return sql;
      name = `cb_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
      this.names.set(sql, name);
    }
    return { name, text: sql, values: params as unknown[] };
  }

  /** Runs `sql` on `q` named when it may be; a stale named plan falls back to unnamed (outside a transaction). */
  private async run(
    q: pg.Pool | pg.PoolClient,
    sql: string,
    params: readonly unknown[],
    retry: boolean,
  ): Promise<pg.QueryResult> {
    const s = this.statement(sql, params);
    try {
      return typeof s === 'string' ? await q.query(s, params as unknown[]) : await q.query(s);
    } catch (err) {
      if (typeof s === 'string' || (err as { code?: string }).code !== STALE_PLAN) throw err;
      this.unnamed.add(sql);
      if (!retry) throw err;
      return q.query(sql, params as unknown[]);
    }
  }

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.run(this.pool, sql, params, true);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const tx: Queryable = {
        outbox: this.outbox,
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          // No retry inside a transaction: the failed statement has aborted it.
          const r = await this.run(client, sql, params, false);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => {
          await client.query(sql);
        },
      };
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * A round trip. Failing, it throws DEPENDENCY_DOWN whose message is the reason in words (start-up prints it,
   * readiness shows it as the `store` detail) and warns once per distinct reason.
   */
  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (err) {
      const reason = describePgFailure(err, this.opts.connectionString);
      this.failures?.failed(reason, err);
      throw errors.dependencyDown(reason, {
        cause: err,
        details: { dependency: 'store', target: this.target },
      });
    }
    if (this.failures?.succeeded())
      this.opts.logger?.info({ target: this.target }, 'Postgres available again');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
