import { type CareBridgeError, isCareBridgeError } from '../../kernel/errors/index.js';
import { ResponseCache } from '../../kernel/resilience/index.js';
import type { Metrics } from '../../kernel/telemetry/index.js';

export interface PermissionCacheOptions {
  /** How long a decision may be served without asking the service again. Default 10 000 ms; 0 turns caching off. */
  ttlMs?: number;
  /** Most decisions kept; least recently used go first. Default 10 000. */
  max?: number;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
}

export interface CheckKey {
  subject: string;
  resource: string;
  action: string;
  consistencyToken?: string;
}

export type Decided = { allowed: boolean } | { error: CareBridgeError };

const parts = (c: CheckKey) => [
  'users.permission',
  c.subject,
  c.resource,
  c.action,
  c.consistencyToken ?? '',
];

/**
 * Permission decisions on the kernel's ResponseCache (bounded LRU, TTL, single flight; keys hashed so no
 * subject id sits in memory as a key). Only answers of successful calls are stored: a failure is never
 * remembered as a deny, and stale-if-error stays off so an outage cannot extend a decision past its TTL.
 * The key carries the consistency token, so a caller holding a newer token skips older entries.
 */
export class PermissionCache {
  private readonly cache: ResponseCache<{ allowed: boolean }> | undefined;

  constructor(opts: PermissionCacheOptions & { metrics: Metrics }) {
    const ttlMs = opts.ttlMs ?? 10_000;
    if (!Number.isInteger(ttlMs) || ttlMs < 0 || ttlMs > 300_000)
      throw new RangeError('ttlMs must be an integer from 0 to 300000');
    this.cache =
      ttlMs === 0
        ? undefined
        : new ResponseCache({
            name: 'users.permissions',
            max: opts.max ?? 10_000,
            ttlMs,
            metrics: opts.metrics,
            ...(opts.now ? { now: opts.now } : {}),
          });
  }

  /** The cached decision, or `load()` once for every concurrent identical check. */
  async decide(check: CheckKey, load: () => Promise<boolean>): Promise<boolean> {
    if (!this.cache) return load();
    return (await this.cache.get(parts(check), async () => ({ allowed: await load() }))).value.allowed;
  }

  /**
   * Many decisions: cached ones are answered from the cache, the rest go to `loadBatch` in ONE call.
   * `loadBatch` answers per item (a decision or an error); if the whole call fails, this throws.
   */
  async decideMany(
    checks: CheckKey[],
    loadBatch: (missing: CheckKey[]) => Promise<Array<boolean | CareBridgeError>>,
  ): Promise<Decided[]> {
    const toDecided = (p: Promise<boolean>) =>
      p.then(
        (allowed): Decided => ({ allowed }),
        (error: unknown): Decided => ({ error: error as CareBridgeError }),
      );
    if (!this.cache)
      return Promise.all(
        (await loadBatch(checks)).map((a) =>
          toDecided(isCareBridgeError(a) ? Promise.reject(a) : Promise.resolve(a)),
        ),
      );
    const pending: Array<{
      check: CheckKey;
      resolve: (v: { allowed: boolean }) => void;
      reject: (e: unknown) => void;
    }> = [];
    // ResponseCache.get calls the loader synchronously on a miss, so `pending` is complete after this map.
    const results = checks.map((check) =>
      toDecided(
        this.cache!.get(
          parts(check),
          () =>
            new Promise<{ allowed: boolean }>((resolve, reject) => pending.push({ check, resolve, reject })),
        ).then((r) => r.value.allowed),
      ),
    );
    if (pending.length > 0) {
      let answers: Array<boolean | CareBridgeError>;
      try {
        answers = await loadBatch(pending.map((p) => p.check));
      } catch (err) {
        for (const p of pending) p.reject(err);
        await Promise.all(results);
        throw err;
      }
      pending.forEach((p, i) => {
        const a = answers[i];
        if (typeof a === 'boolean') p.resolve({ allowed: a });
        else p.reject(a ?? new Error('missing answer'));
      });
    }
    return Promise.all(results);
  }

  /** Drops every cached decision (after a role change; keys are hashed, so not per subject). */
  invalidate(): void {
    this.cache?.clear();
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }
}
