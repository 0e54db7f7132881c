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
}

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

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
    const r = await this.pool.query(sql, params as unknown[]);
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
          const r = await client.query(sql, params as unknown[]);
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
