import { paymentErrors } from '../../integrations/payments/index.js';
import type { ValidationAnswer } from '../plugins/errors.js';
import { problemResponse } from '../schemas/problem.js';
import type { FastifyRequest } from '../types.js';

/**
 * A request a payments route's schema refuses is PAYMENTS_INVALID_REQUEST naming the field (`body.amount`,
 * `params.id`), the same code the integration answers for what it checks itself.
 */
export const PAYMENTS_VALIDATION: ValidationAnswer = {
  error: paymentErrors.invalidRequest,
  integration: 'payments',
};

/**
 * What every payments route may answer besides its own object (problem+json `code`s from docs/errors.md),
 * shared by the payment, refund and subscription routes. Extension members (declineCode, paymentId, …) pass.
 */
export const READ_ERRORS = {
  400: problemResponse('PAYMENTS_INVALID_REQUEST (`field` names the parameter, e.g. params.id)'),
  404: problemResponse('PAYMENTS_NOT_FOUND'),
  502: problemResponse('PAYMENTS_UPSTREAM_ERROR'),
  503: problemResponse('PAYMENTS_PROVIDER_UNAVAILABLE, CIRCUIT_OPEN'),
};

export const WRITE_ERRORS = {
  400: problemResponse(
    'PAYMENTS_INVALID_REQUEST (`field` names it), PAYMENTS_REFUND_AMOUNT_TOO_LARGE, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_INVALID',
  ),
  402: problemResponse('PAYMENTS_CARD_DECLINED (declineCode, paymentId), PAYMENTS_PROCESSING_ERROR'),
  404: problemResponse('PAYMENTS_NOT_FOUND'),
  409: problemResponse(
    'IDEMPOTENCY_KEY_IN_FLIGHT, PAYMENTS_IDEMPOTENCY_CONFLICT, PAYMENTS_ALREADY_REFUNDED, PAYMENTS_NOT_REFUNDABLE',
  ),
  422: problemResponse('IDEMPOTENCY_KEY_REUSED'),
  429: problemResponse('PAYMENTS_RATE_LIMITED, RATE_LIMITED (Retry-After)'),
  502: problemResponse(
    'PAYMENTS_OUTCOME_UNKNOWN (retry with the same key), PAYMENTS_AUTHENTICATION_FAILED, PAYMENTS_UPSTREAM_ERROR',
  ),
  503: problemResponse('PAYMENTS_PROVIDER_UNAVAILABLE, CIRCUIT_OPEN, BULKHEAD_FULL'),
};

/** The same list in words, for the descriptions of the creating routes. */
export const CREATE_ERRORS =
  'Errors (problem+json `code`): 400 PAYMENTS_INVALID_REQUEST (`field` names it) / IDEMPOTENCY_KEY_REQUIRED, 402 PAYMENTS_CARD_DECLINED (`declineCode`, `paymentId`) / PAYMENTS_PROCESSING_ERROR, 409 IDEMPOTENCY_KEY_IN_FLIGHT / PAYMENTS_IDEMPOTENCY_CONFLICT, 422 IDEMPOTENCY_KEY_REUSED, 429 PAYMENTS_RATE_LIMITED (`Retry-After`), 502 PAYMENTS_OUTCOME_UNKNOWN (retry with the same key: it reconciles) / PAYMENTS_AUTHENTICATION_FAILED, 503 PAYMENTS_PROVIDER_UNAVAILABLE (the processor turned it away and took nothing: retry with the same key) / CIRCUIT_OPEN. Replays carry `Idempotent-Replayed: true`.';

/** Who asked, as the ledger and the audit log record it. */
export function actor(request: FastifyRequest): string {
  return request.principal?.subject ?? 'anonymous';
}
