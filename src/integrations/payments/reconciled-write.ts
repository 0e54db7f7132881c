import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { type CareBridgeError, isCareBridgeError } from '../../kernel/errors/index.js';
import { hashRequest } from '../../kernel/store/index.js';
import { paymentErrors, toCareBridgeError } from './errors.js';
import type { Outcome } from './processor.js';
import { operationKeySchema, validate } from './schemas.js';

/**
 * The one path of every processor write (a charge, a refund, a subscription): validate the request and the
 * caller's operation key, derive the processor key from it, record the row under that key BEFORE the call
 * (so a crash or a lost answer always leaves something to reconcile), refuse a key reused for another
 * request, then `sendReconciled`. Each flow supplies only what differs: its ledger and its processor calls.
 */

export interface WriteOptions {
  /** The business operation this write is (e.g. `order-1234`); the same key never charges twice. */
  idempotencyKey: string;
  /** Who asked (principal subject), kept in the ledger. */
  actor?: string;
}

/** `pay`, `re`, `sub`: which ledger the write goes to (also in the key, so the three never collide). */
export type WriteKind = 'pay' | 're' | 'sub';

/** `processing` (sent, or about to be) and `unknown` (sent, no answer): the rows reconciliation settles. */
export const isOpen = (status: string): boolean => status === 'processing' || status === 'unknown';

/** Provider idempotency key derived from the business operation (stable across retries and restarts). */
export function providerKey(kind: WriteKind, operationKey: string): string {
  return `cb_${kind}_${createHash('sha256').update(operationKey).digest('hex').slice(0, 40)}`;
}

export interface PreparedWrite<T> {
  request: T;
  /** Hash of the validated request: a second use of the key must carry the same one. */
  requestHash: string;
  providerKey: string;
}

/** Validates the request and the operation key (PAYMENTS_INVALID_REQUEST) before anything is recorded. */
export function prepareWrite<T>(
  kind: WriteKind,
  schema: z.ZodType<T>,
  request: unknown,
  opts: WriteOptions,
): PreparedWrite<T> {
  const valid = validate(schema, request);
  const operationKey = validate(operationKeySchema, opts.idempotencyKey);
  return { request: valid, requestHash: hashRequest(valid), providerKey: providerKey(kind, operationKey) };
}

/** The row found under this processor key must be for this very request (PAYMENTS_IDEMPOTENCY_CONFLICT). */
export function assertSameRequest(
  begun: { requestHash: string },
  write: { requestHash: string },
  what: 'payment' | 'refund' | 'subscription',
  details?: Record<string, unknown>,
): void {
  if (begun.requestHash === write.requestHash) return;
  throw paymentErrors.idempotencyConflict(`This idempotency key was already used for a different ${what}.`, {
    integration: 'payments',
    ...(details ? { details } : {}),
  });
}

/** What one write does at each step; `sendReconciled` decides the order. */
export interface ReconciledSend<P, R> {
  /** The create call, always with the row's processor key (the pipeline retries with the same key). */
  send(): Promise<Outcome<P>>;
  /** The processor's object for this row, found by our id in its metadata; undefined when there is none. */
  lookUp(): Promise<P | undefined>;
  /** Records what the processor says exists. */
  apply(found: P): Promise<R>;
  /** Records a final refusal (a 4xx answer), then throws it or returns what it became (a failed charge). */
  refused(err: CareBridgeError): Promise<R>;
  /**
   * Records that no round got a final answer and throws; the row stays open for reconciliation. `turnedAway`
   * is the processor's own refusal (5xx, 429) when that was the last word and the lookup after it found
   * nothing: the caller hears that refusal (`turnedAwayError`), not "outcome unknown".
   */
  unanswered(lastError: unknown, turnedAway: CareBridgeError | undefined): Promise<never>;
}

/** The processor answered, and what it said was "not now": a 5xx (not 409, which means still executing) or 429. */
function turnsAway(err: unknown): err is CareBridgeError {
  if (!isCareBridgeError(err)) return false;
  if (err.code === 'PAYMENTS_RATE_LIMITED') return true;
  return err.code === 'PAYMENTS_PROVIDER_UNAVAILABLE' && Number(err.details?.providerStatus) >= 500;
}

/**
 * What a caller hears when the processor turned a write away and holds nothing for it: the same code
 * (503 PAYMENTS_PROVIDER_UNAVAILABLE, 429 PAYMENTS_RATE_LIMITED, retryable), naming the row that stays open.
 */
export function turnedAwayError(
  refusal: CareBridgeError,
  what: 'payment' | 'refund' | 'subscription',
  details: Record<string, unknown>,
): CareBridgeError {
  const make =
    refusal.code === 'PAYMENTS_RATE_LIMITED' ? paymentErrors.rateLimited : paymentErrors.providerUnavailable;
  const why = refusal.code === 'PAYMENTS_RATE_LIMITED' ? 'is rate limiting CareBridge' : 'is unavailable';
  return make(
    `The processor ${why} and has not taken the ${what}; it stays open and is reconciled. Retry with the same Idempotency-Key.`,
    {
      integration: 'payments',
      details: { ...refusal.details, ...details },
      ...(refusal.retryAfterSeconds !== undefined ? { retryAfterSeconds: refusal.retryAfterSeconds } : {}),
      cause: refusal,
    },
  );
}

/**
 * Sends a write and settles it: when no answer comes back, look the object up before deciding; only when
 * there is none, send again with the SAME key (the processor replays instead of creating twice). After
 * `rounds` without an answer the write is left open (`unknown`). `lookUpFirst` is for a row that may have
 * been sent already (a retried operation key, reconciliation): look before sending.
 */
export async function sendReconciled<P, R>(
  steps: ReconciledSend<P, R>,
  opts: { rounds: number; lookUpFirst: boolean },
): Promise<R> {
  if (opts.lookUpFirst) {
    const found = await steps.lookUp().catch(() => undefined);
    if (found) return steps.apply(found);
  }
  let lastError: unknown;
  let nothingThere = false;
  for (let round = 1; round <= opts.rounds; round++) {
    let outcome: Outcome<P>;
    try {
      outcome = await steps.send();
    } catch (err) {
      // Sent (maybe) but no answer: the outcome is unknown. Look it up before deciding anything.
      lastError = err;
      const looked = await steps.lookUp().then(
        (found) => ({ found }),
        () => undefined,
      );
      if (looked?.found) return steps.apply(looked.found);
      nothingThere = looked !== undefined;
      continue; // nothing there: resending with the same key cannot create it twice
    }
    if (outcome.ok) return steps.apply(outcome.body);
    return steps.refused(toCareBridgeError(outcome.answer));
  }
  return steps.unanswered(lastError, nothingThere && turnsAway(lastError) ? lastError : undefined);
}
