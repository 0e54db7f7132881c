import { z } from 'zod';
import { errors, isCareBridgeError, PROBLEM_CONTENT_TYPE, toProblem } from '../../kernel/errors/index.js';
import type { Store } from '../../kernel/store/index.js';
import { hashRequest, IdempotencyStore, type StoredResponse } from '../../kernel/store/index.js';
import type { FastifyReply, FastifyRequest, GatewayDeps } from '../types.js';

/** What a creating handler answers; stored and replayed for the same key. */
export interface IdempotentResponse<T = unknown> {
  status: number;
  body: T;
  headers?: Record<string, string>;
}

export interface IdempotencyContext {
  /** The caller's key: pass it down as the outbound idempotency key so provider calls are idempotent too. */
  key: string;
  /** The scope the key lives in (route scope + caller). */
  scope: string;
}

/**
 * The header as the OpenAPI document shows it on every creating route. Optional in the schema so that a
 * missing key is answered by `withIdempotency` with its own code (400 IDEMPOTENCY_KEY_REQUIRED), not a
 * generic validation failure.
 */
export const idempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .describe(
      'Required. A unique key (UUID) per business operation; resend it on retries. Missing: 400 IDEMPOTENCY_KEY_REQUIRED.',
    ),
});

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const stores = new WeakMap<Store, IdempotencyStore>();

function storeFor(deps: Pick<GatewayDeps, 'store' | 'config'>): IdempotencyStore {
  let s = stores.get(deps.store);
  if (!s) {
    s = new IdempotencyStore(deps.store, {
      ttlSeconds: deps.config.idempotencyTtlSeconds,
      lockSeconds: deps.config.idempotencyLockSeconds,
    });
    stores.set(deps.store, s);
  }
  return s;
}

/**
 * Runs a creating POST at most once per `Idempotency-Key` (IETF draft "The Idempotency-Key HTTP Header Field"):
 * - no key → 400 IDEMPOTENCY_KEY_REQUIRED; a malformed key → 400 IDEMPOTENCY_KEY_INVALID;
 * - the same key and body again → the stored answer, with `Idempotent-Replayed: true`;
 * - the same key with another body → 422 IDEMPOTENCY_KEY_REUSED;
 * - while the first request is still running → 409 IDEMPOTENCY_KEY_IN_FLIGHT (retryable).
 * Keys are scoped per route scope and per caller, so two callers never see each other's answers.
 * A handler failure that is final (a CareBridgeError that is not retryable, e.g. a decline) is stored and
 * replayed; a retryable one (timeout, breaker open) releases the key so the client can retry with it.
 */
export async function withIdempotency<T>(
  deps: Pick<GatewayDeps, 'store' | 'config'>,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: string,
  handler: (ctx: IdempotencyContext) => Promise<IdempotentResponse<T>>,
): Promise<FastifyReply> {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) {
    throw errors.idempotencyKeyRequired(
      'This request creates something: send an Idempotency-Key header (a UUID).',
    );
  }
  const key = Array.isArray(raw) ? '' : raw;
  if (!KEY_PATTERN.test(key)) {
    throw errors.idempotencyKeyInvalid(
      'Idempotency-Key must be 1–255 printable ASCII characters (use a UUID).',
    );
  }
  const fullScope = `${scope}:${request.principal?.subject ?? 'anonymous'}`;
  const requestHash = hashRequest({ method: request.method, url: request.url, body: request.body ?? null });
  const store = storeFor(deps);

  const begun = await store.begin(fullScope, key, requestHash);
  if (begun.kind === 'conflict') {
    throw errors.idempotencyKeyReused('This Idempotency-Key was already used with a different request body.');
  }
  if (begun.kind === 'in_flight') {
    throw errors.idempotencyInFlight('A request with this Idempotency-Key is still being processed.', {
      retryAfterSeconds: 1,
    });
  }
  if (begun.kind === 'replay') return send(reply, begun.response, true);

  let response: StoredResponse;
  try {
    response = await handler({ key, scope: fullScope });
  } catch (err) {
    if (!isCareBridgeError(err) || err.retryable || err.httpStatus >= 500) {
      await store
        .release(fullScope, key)
        .catch((e) => request.log.warn({ err: e }, 'could not release idempotency key'));
      throw err;
    }
    // A final answer (e.g. a decline): replays must give the same answer, not run the work again.
    const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, ...(err.headers ?? {}) };
    response = { status: err.httpStatus, body: toProblem(err, request.id), headers };
  }
  await store.complete(fullScope, key, response);
  return send(reply, response, false);
}

function send(reply: FastifyReply, response: StoredResponse, replayed: boolean): FastifyReply {
  if (response.headers) reply.headers(response.headers);
  if (replayed) reply.header('Idempotent-Replayed', 'true');
  return reply.status(response.status).send(response.body);
}
