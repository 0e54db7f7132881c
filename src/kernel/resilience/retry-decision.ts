import { isCareBridgeError } from '../errors/index.js';
import type { RetryBudget } from './retry-budget.js';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** First backoff (ms). Default 200. */
  initialDelayMs?: number;
  /** Largest backoff (ms). Default 5000. */
  maxDelayMs?: number;
}

export type RetryDecision =
  | { retry: true; delayMs: number; reason: 'retry-after' | 'backoff' }
  | { retry: false; reason: string };

/** Our own refusals: retrying them at once cannot help (the breaker is open, the queue is full). */
const NEVER_RETRIED = new Set(['CIRCUIT_OPEN', 'BULKHEAD_FULL', 'RATE_LIMIT_QUEUE_FULL']);

/**
 * Whether and when to try again, from the error alone (the integration's `toCareBridgeError` decided what is
 * retryable: connection errors, 5xx, 408, 429, gRPC UNAVAILABLE …):
 * - only `retryable` errors, and for a call that is not idempotent only those marked `details.notSent`
 *   (nothing reached the provider, e.g. connection refused);
 * - the server's `Retry-After` wins over our backoff; if it asks for longer than the remaining total budget
 *   we fail fast with its error (which carries `retryAfterSeconds` on to our caller) rather than wait and
 *   time out anyway;
 * - otherwise exponential backoff with half jitter: min(max, initial·2^(n−1)) × [0.5, 1), never below initial;
 * - and only while the integration's retry budget has room.
 */
export function decideRetry(
  err: unknown,
  ctx: {
    attempt: number;
    options: RetryOptions;
    idempotent: boolean;
    remainingMs: number;
    budget?: RetryBudget | undefined;
    random?: () => number;
  },
): RetryDecision {
  if (ctx.attempt >= ctx.options.maxAttempts) return { retry: false, reason: 'max attempts reached' };
  if (!isCareBridgeError(err)) return { retry: false, reason: 'not a retryable error' };
  if (NEVER_RETRIED.has(err.code)) return { retry: false, reason: `${err.code} is not retried` };
  if (!err.retryable) return { retry: false, reason: 'not a retryable error' };
  if (!ctx.idempotent && err.details?.notSent !== true) {
    return { retry: false, reason: 'not idempotent and the request may have reached the provider' };
  }
  let delayMs: number;
  let reason: 'retry-after' | 'backoff';
  if (err.retryAfterSeconds !== undefined) {
    delayMs = Math.max(0, err.retryAfterSeconds * 1000);
    reason = 'retry-after';
  } else {
    const initial = ctx.options.initialDelayMs ?? 200;
    const max = ctx.options.maxDelayMs ?? 5_000;
    const exp = Math.min(max, initial * 2 ** (ctx.attempt - 1));
    delayMs = Math.max(Math.min(initial, max), Math.round(exp * (0.5 + (ctx.random ?? Math.random)() * 0.5)));
    reason = 'backoff';
  }
  if (delayMs >= ctx.remainingMs) {
    return {
      retry: false,
      reason:
        reason === 'retry-after' ? 'Retry-After exceeds the remaining budget' : 'no time left for a retry',
    };
  }
  if (ctx.budget && !ctx.budget.tryWithdraw()) return { retry: false, reason: 'retry budget exhausted' };
  return { retry: true, delayMs, reason };
}
