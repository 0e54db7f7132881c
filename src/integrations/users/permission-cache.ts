import { LRUCache } from 'lru-cache';

export interface PermissionCacheOptions {
  /** How long a decision may be served without asking the service again. Default 10 000 ms (5–30 s is the usual range). */
  ttlMs?: number;
  /** Most decisions kept; least recently used go first. Default 10 000. */
  max?: number;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
}

export type CacheSource = 'hit' | 'miss' | 'coalesced';

/**
 * Short-lived cache of permission decisions of successful calls only. Keyed on the full check
 * (subject, resource, action, consistency token); identical in-flight checks share one call
 * (single-flight); a failed call is never stored, so an outage is never remembered as a deny.
 */
export class PermissionCache {
  private readonly lru: LRUCache<string, { allowed: boolean }>;
  private readonly inflight = new Map<string, Promise<boolean>>();

  constructor(opts: PermissionCacheOptions = {}) {
    const ttl = opts.ttlMs ?? 10_000;
    const max = opts.max ?? 10_000;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 300_000)
      throw new RangeError('ttlMs must be an integer from 0 to 300000');
    if (!Number.isInteger(max) || max < 1) throw new RangeError('max must be a positive integer');
    const now = opts.now;
    this.lru = new LRUCache({ max, ttl: Math.max(ttl, 1), ...(now ? { perf: { now } } : {}) });
    this.enabled = ttl > 0;
  }

  private readonly enabled: boolean;

  static key(subject: string, resource: string, action: string, consistency = ''): string {
    return JSON.stringify([subject, resource, action, consistency]);
  }

  /** The cached decision, or the result of `load` (shared with identical concurrent calls). */
  async get(key: string, load: () => Promise<boolean>): Promise<{ allowed: boolean; source: CacheSource }> {
    const hit = this.enabled ? this.lru.get(key) : undefined;
    if (hit) return { allowed: hit.allowed, source: 'hit' };
    const running = this.inflight.get(key);
    if (running) return { allowed: await running, source: 'coalesced' };
    const p = load();
    this.inflight.set(key, p);
    try {
      const allowed = await p;
      if (this.enabled) this.lru.set(key, { allowed });
      return { allowed, source: 'miss' };
    } finally {
      this.inflight.delete(key);
    }
  }

  peek(key: string): boolean | undefined {
    return this.lru.get(key)?.allowed;
  }

  /** Stores a decision learnt elsewhere (a batch answer). */
  set(key: string, allowed: boolean): void {
    if (this.enabled) this.lru.set(key, { allowed });
  }

  /** Drops every decision about `subject` (after a role change), or everything. */
  invalidate(subject?: string): void {
    if (subject === undefined) {
      this.lru.clear();
      return;
    }
    const prefix = JSON.stringify([subject]).slice(0, -1);
    for (const k of this.lru.keys()) if (k.startsWith(prefix)) this.lru.delete(k);
  }

  get size(): number {
    return this.lru.size;
  }
}
