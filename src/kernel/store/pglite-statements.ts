import { type PGlite, parse, protocol } from '@electric-sql/pglite';
import type { QueryResult } from './store.js';

const { serialize } = protocol;
const SYNC = serialize.sync();
const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute({});

/** Postgres answers these when a prepared statement's plan no longer fits (a table changed) or is gone. */
const STALE_STATEMENT = new Set(['0A000', '26000']);

/** Statement names unique in the process, so two of these on one PGlite never collide. */
let nextName = 0;

/**
 * Named prepared statements on PGlite, one wire-protocol batch per query. `PGlite.query` runs the unnamed
 * statement and makes six calls into the WASM engine per query (Parse, Describe, Bind, Describe, Execute,
 * Sync, each parsed and answered on its own), and the server plans the statement again every time — planning
 * reads every table's size, one `fstat` per relation through Emscripten's file system. Here a statement is
 * parsed and described once (its parameter types pick PGlite's serializers, as `query` does), then each call
 * is Bind + Describe + Execute + Sync in ONE call, and Postgres reuses the plan (generic after five runs).
 * The caller holds PGlite's locks; statements are kept per SQL text, at most `max`, oldest closed first.
 */
export class PgliteStatements {
  private readonly statements = new Map<string, { name: string; types: number[] }>();

  constructor(
    private readonly db: PGlite,
    private readonly max = 500,
  ) {}

  get size(): number {
    return this.statements.size;
  }

  /**
   * Runs `sql` with `params`. `begin` is sent in the same batch, first (a transaction's BEGIN rides on its first
   * statement); outside a transaction a statement whose kept plan went stale is prepared again once.
   */
  async run<T>(sql: string, params: readonly unknown[], begin?: Uint8Array): Promise<QueryResult<T>> {
    try {
      return await this.execute<T>(sql, params, begin);
    } catch (err) {
      // A table's shape changed under a kept plan (migrations in a running process): prepare it again, once.
      if (begin || !STALE_STATEMENT.has((err as { code?: string }).code ?? '')) throw err;
      await this.forget(sql);
      return this.execute<T>(sql, params);
    }
  }

  /** A simple-protocol statement (BEGIN, COMMIT, several statements without parameters): its last result. */
  async simple(sql: string): Promise<{ command?: string; rowCount: number }> {
    const messages = await this.db.execProtocolStream(serialize.query(sql), { syncToFs: false });
    const last = parse.parseResults(messages, this.db.parsers).at(-1);
    return {
      command: (last as { command?: string } | undefined)?.command,
      rowCount: last?.affectedRows ?? 0,
    };
  }

  private async execute<T>(
    sql: string,
    params: readonly unknown[],
    begin?: Uint8Array,
  ): Promise<QueryResult<T>> {
    let first = begin;
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = await this.prepare(sql, first);
      first = undefined;
    }
    const types = statement.types;
    const serializers = this.db.serializers;
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serialize = serializers[types[i] as number];
      return serialize ? serialize(v) : String(v);
    });
    const bind = serialize.bind({ statement: statement.name, values });
    const messages = await this.db.execProtocolStream(
      Buffer.concat(
        first ? [first, bind, DESCRIBE_PORTAL, EXECUTE, SYNC] : [bind, DESCRIBE_PORTAL, EXECUTE, SYNC],
      ),
      { syncToFs: false },
    );
    const result = parse.parseResults(messages, this.db.parsers).at(-1);
    const rows = (result?.rows ?? []) as T[];
    return { rows, rowCount: result?.affectedRows ?? rows.length };
  }

  private async prepare(sql: string, begin?: Uint8Array): Promise<{ name: string; types: number[] }> {
    if (this.statements.size >= this.max) {
      const oldest = this.statements.keys().next().value as string;
      await this.forget(oldest);
    }
    const name = `cb_${nextName++}`;
    const parseMsg = serialize.parse({ name, text: sql });
    const describe = serialize.describe({ type: 'S', name });
    const messages = await this.db.execProtocolStream(
      Buffer.concat(begin ? [begin, parseMsg, describe, SYNC] : [parseMsg, describe, SYNC]),
      { syncToFs: false },
    );
    const statement = { name, types: parse.parseDescribeStatementResults(messages) };
    this.statements.set(sql, statement);
    return statement;
  }

  private async forget(sql: string): Promise<void> {
    const statement = this.statements.get(sql);
    if (!statement) return;
    this.statements.delete(sql);
    await this.db.execProtocolStream(
      Buffer.concat([serialize.close({ type: 'S', name: statement.name }), SYNC]),
      { syncToFs: false },
    );
  }
}
