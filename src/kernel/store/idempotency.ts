import { createHash } from 'node:crypto';
import type { Queryable, Store } from './store.js';

/** What a completed request answered; replayed as is. */
export interface StoredResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type BeginResult =
  | { kind: 'started' }
  | { kind: 'replay'; response: StoredResponse }
  /** Same key, different request hash. */
  | { kind: 'conflict' }
  | { kind: 'in_flight' };

export interface IdempotencyStoreOptions {
  /** How long a key and its answer are kept. At least 86,400 (24 h). Default 86,400. */
  ttlSeconds?: number;
  /** How long an in-progress request holds its key; after that a retry may take it over (crash recovery). Default 120. */
  lockSeconds?: number;
  now?: () => Date;
}

const MIN_TTL_SECONDS = 86_400;

/**
 * Idempotency keys in the store (Stripe's model, brandur.org/idempotency-keys): a key is claimed atomically
 * with `INSERT … ON CONFLICT`, remembers the hash of the request that claimed it, and keeps the answer once
 * the request completes. An in-progress claim expires after `lockSeconds`, so a crashed request does not block
 * its key forever; the same request may then start again (its work must itself be idempotent, e.g. by
 * reusing the same outbound idempotency key, which is why callers pass the key down).
 */
export class IdempotencyStore {
  private readonly ttlSeconds: number;
  private readonly lockSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly store: Store,
    opts: IdempotencyStoreOptions = {},
  ) {
    this.ttlSeconds = opts.ttlSeconds ?? MIN_TTL_SECONDS;
    this.lockSeconds = opts.lockSeconds ?? 120;
    this.now = opts.now ?? (() => new Date());
    if (!(this.ttlSeconds >= MIN_TTL_SECONDS))
      throw new RangeError('IdempotencyStore: ttlSeconds must be at least 86400 (24 h)');
    if (!(this.lockSeconds > 0)) throw new RangeError('IdempotencyStore: lockSeconds must be positive');
  }

  /** Claims the key for this request, or tells why not (a stored answer, a different request, one in flight). */
  async begin(scope: string, key: string, requestHash: string): Promise<BeginResult> {
    for (let i = 0; i < 3; i++) {
      const now = this.now();
      const lockedUntil = new Date(now.getTime() + this.lockSeconds * 1000);
      const expiresAt = new Date(now.getTime() + this.ttlSeconds * 1000);
      // Takes the key when it is new, expired, or held by a crashed attempt of the same request.
      const claimed = await this.store.query(
        `INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, created_at, expires_at)
         VALUES ($1, $2, $3, 'in_progress', $4, $6, $5)
         ON CONFLICT (scope, key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response = NULL,
                locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
          WHERE idempotency_keys.expires_at <= $6
             OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.locked_until <= $6
                 AND idempotency_keys.request_hash = EXCLUDED.request_hash)
         RETURNING key`,
        [scope, key, requestHash, lockedUntil, expiresAt, now],
      );
      if (claimed.rowCount > 0) return { kind: 'started' };
      const { rows } = await this.store.query<{
        request_hash: string;
        state: string;
        response: StoredResponse | null;
      }>('SELECT request_hash, state, response FROM idempotency_keys WHERE scope = $1 AND key = $2', [
        scope,
        key,
      ]);
      const row = rows[0];
      if (!row) continue; // released between the two statements: try to claim again
      if (row.request_hash !== requestHash) return { kind: 'conflict' };
      if (row.state === 'completed' && row.response) return { kind: 'replay', response: row.response };
      return { kind: 'in_flight' };
    }
    return { kind: 'in_flight' };
  }

  /** Stores the answer. Pass the business transaction to commit the answer with the work it describes. */
  async complete(scope: string, key: string, response: StoredResponse, tx?: Queryable): Promise<void> {
    await (tx ?? this.store).query(
      `UPDATE idempotency_keys SET state = 'completed', response = $3::jsonb, locked_until = NULL
        WHERE scope = $1 AND key = $2`,
      [scope, key, JSON.stringify(response)],
    );
  }

  /** Drops an in-progress claim after a failure that did nothing, so the caller may try again with the key. */
  async release(scope: string, key: string): Promise<void> {
    await this.store.query(
      "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND state = 'in_progress'",
      [scope, key],
    );
  }

  /** Deletes expired keys (run from a periodic job). Returns how many. */
  async purgeExpired(): Promise<number> {
    const r = await this.store.query('DELETE FROM idempotency_keys WHERE expires_at <= $1', [this.now()]);
    return r.rowCount;
  }
}

/** sha256 of a stable JSON form (object keys sorted), so `{a,b}` and `{b,a}` hash alike. */
export function hashRequest(parts: unknown): string {
  return createHash('sha256').update(stableJson(parts)).digest('hex');
}

function stableJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64'));
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
}
