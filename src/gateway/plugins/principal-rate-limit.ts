import { LRUCache } from 'lru-cache';
import { errors } from '../../kernel/errors/index.js';
import type { FastifyReply, FastifyRequest } from '../types.js';

export interface RateLimiterOptions {
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
 * A token bucket per key, in this instance's memory. Per-principal fairness does not need to be exact
 * across instances (each enforces its share); provider-wide limits use Redis instead (ARCHITECTURE.md).
 */
export class KeyedRateLimiter {
  private readonly buckets: LRUCache<string, { tokens: number; at: number }>;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly now: () => number;

  constructor(opts: RateLimiterOptions) {
    if (!(opts.perMinute > 0)) throw new RangeError('perMinute must be > 0');
    this.ratePerMs = opts.perMinute / 60_000;
    this.burst = opts.burst ?? opts.perMinute;
    this.now = opts.now ?? Date.now;
    this.buckets = new LRUCache({ max: opts.maxKeys ?? 100_000 });
  }

  take(key: string): Take {
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

  /** Puts a token back (a request that should not count, e.g. a successful sign-in against a failure limit). */
  refund(key: string): void {
    const b = this.buckets.get(key);
    if (b) b.tokens = Math.min(this.burst, b.tokens + 1);
  }
}

/**
 * Per-principal limit on /v1: called by access control right after authentication, so the key is the
 * authenticated subject (not an IP that many callers may share). Answers 429 RATE_LIMITED with Retry-After.
 */
export function enforcePrincipalRateLimit(
  limiter: KeyedRateLimiter,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const subject = request.principal?.subject;
  if (!subject) return;
  const r = limiter.take(subject);
  if (r.ok) {
    reply.header('RateLimit-Remaining', String(r.remaining));
    return;
  }
  throw errors.rateLimited('Too many requests for this caller; slow down.', {
    retryAfterSeconds: r.retryAfterSeconds,
  });
}
