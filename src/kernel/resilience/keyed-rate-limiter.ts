import { LRUCache } from 'lru-cache';

export interface KeyedRateLimiterOptions {
  /** Requests allowed per minute per key (the bucket refills continuously). */
  perMinute: number;
  /** Burst size; default `perMinute`. */
  burst?: number;
  /** Keys tracked at once (least recently seen dropped first). Default 100 000. */
  maxKeys?: number;
  now?: () => number;
}

export type Take = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number };

/**
 * A token bucket per key (a caller, an IP, a username) that answers at once: taken, or how long to wait. The
 * gateway's inbound limits use it; `RateLimiters.keyed` gives the in-memory one or, with REDIS_URL, the one
 * every instance shares (RedisKeyedRateLimiter).
 */
export interface KeyedLimiter {
  take(key: string): Promise<Take>;
  /** Puts a token back (a request that should not count, e.g. a successful sign-in against a failure limit). */
  refund(key: string): Promise<void>;
}

/** A token bucket per key, in this instance's memory (bounded LRU). */
export class KeyedRateLimiter implements KeyedLimiter {
  private readonly buckets: LRUCache<string, { tokens: number; at: number }>;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(opts: KeyedRateLimiterOptions) {
    if (!(opts.perMinute > 0)) throw new RangeError('perMinute must be > 0');
    this.ratePerMs = opts.perMinute / 60_000;
    this.burst = opts.burst ?? opts.perMinute;
    this.now = opts.now ?? Date.now;
    this.buckets = new LRUCache({ max: opts.maxKeys ?? 100_000 });
  }

  async take(key: string): Promise<Take> {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * this.ratePerMs);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerMs / 1000)) };
  }

  async refund(key: string): Promise<void> {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }
}
