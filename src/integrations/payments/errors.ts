import { type CareBridgeError, errorFactory, isCareBridgeError } from '../../kernel/errors/index.js';
import { parseRetryAfter } from '../../kernel/resilience/index.js';

const INTEGRATION = 'payments';

/**
 * Every error the payments integration raises (documented in docs/errors.md, "Payments"). Provider answers
 * are mapped to these in ONE place, `toCareBridgeError`; nothing of the provider's body leaks except its
 * stable codes (decline code, provider error code).
 */
export const paymentErrors = {
  invalidRequest: errorFactory('PAYMENTS_INVALID_REQUEST', 400, false, INTEGRATION),
  cardDeclined: errorFactory('PAYMENTS_CARD_DECLINED', 402, false, INTEGRATION),
  processingError: errorFactory('PAYMENTS_PROCESSING_ERROR', 402, true, INTEGRATION),
  refundTooLarge: errorFactory('PAYMENTS_REFUND_AMOUNT_TOO_LARGE', 400, false, INTEGRATION),
  alreadyRefunded: errorFactory('PAYMENTS_ALREADY_REFUNDED', 409, false, INTEGRATION),
  notRefundable: errorFactory('PAYMENTS_NOT_REFUNDABLE', 409, false, INTEGRATION),
  notFound: errorFactory('PAYMENTS_NOT_FOUND', 404, false, INTEGRATION),
  authentication: errorFactory('PAYMENTS_AUTHENTICATION_FAILED', 502, false, INTEGRATION),
  rateLimited: errorFactory('PAYMENTS_RATE_LIMITED', 429, true, INTEGRATION),
  idempotencyConflict: errorFactory('PAYMENTS_IDEMPOTENCY_CONFLICT', 409, false, INTEGRATION),
  providerUnavailable: errorFactory('PAYMENTS_PROVIDER_UNAVAILABLE', 503, true, INTEGRATION),
  outcomeUnknown: errorFactory('PAYMENTS_OUTCOME_UNKNOWN', 502, true, INTEGRATION),
  upstreamError: errorFactory('PAYMENTS_UPSTREAM_ERROR', 502, true, INTEGRATION),
  webhookSignatureInvalid: errorFactory('PAYMENTS_WEBHOOK_SIGNATURE_INVALID', 401, false, INTEGRATION),
  invalidCursor: errorFactory('PAYMENTS_INVALID_CURSOR', 400, false, INTEGRATION),
  paymentMethodUnknown: errorFactory('PAYMENTS_PAYMENT_METHOD_UNKNOWN', 400, false, INTEGRATION),
} as const;

/** A provider answer as the HTTP client returns it (any status). */
export interface ProviderAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

interface ProviderErrorBody {
  error?: {
    type?: string;
    code?: string;
    decline_code?: string;
    message?: string;
    param?: string;
    charge?: string;
  };
}

/**
 * The one mapping from a processor answer (non-2xx) or a transport failure to a CareBridgeError.
 * Transport errors from kernel/http (UPSTREAM_TIMEOUT, UPSTREAM_CONNECTION_RESET, …) and pipeline errors
 * (CIRCUIT_OPEN, BULKHEAD_FULL) pass through unchanged: their codes are already stable and documented.
 */
export function toCareBridgeError(raw: ProviderAnswer | unknown): CareBridgeError {
  if (isCareBridgeError(raw)) return raw;
  if (!isAnswer(raw))
    return paymentErrors.upstreamError('The payment processor call failed unexpectedly.', { cause: raw });
  const { status, headers } = raw;
  const e = (raw.body as ProviderErrorBody | undefined)?.error ?? {};
  const providerCode = e.code;
  const details: Record<string, unknown> = {
    providerStatus: status,
    ...(providerCode ? { providerCode } : {}),
  };
  const extra = { details };
  if (status === 402 || e.type === 'card_error') {
    if (e.charge) details.providerChargeId = e.charge;
    if (e.decline_code) details.declineCode = e.decline_code;
    if (providerCode === 'processing_error') {
      return paymentErrors.processingError(
        'The card could not be processed; a new attempt (with a new Idempotency-Key) may succeed.',
        extra,
      );
    }
    return paymentErrors.cardDeclined(
      `The card was declined (${e.decline_code ?? providerCode ?? 'card_declined'}).`,
      extra,
    );
  }
  if (status === 401 || status === 403 || e.type === 'authentication_error') {
    return paymentErrors.authentication(
      "The payment processor refused CareBridge's credentials or request signature.",
      extra,
    );
  }
  if (status === 429) {
    const s = parseRetryAfter(headers['retry-after']);
    return paymentErrors.rateLimited('The payment processor is rate limiting CareBridge.', {
      ...extra,
      ...(s !== undefined ? { retryAfterSeconds: s } : {}),
    });
  }
  if (e.type === 'idempotency_error') {
    return paymentErrors.idempotencyConflict(
      'The processor saw this operation with different parameters.',
      extra,
    );
  }
  if (status === 409) {
    return paymentErrors.providerUnavailable('The processor is still executing this operation.', {
      ...extra,
      retryAfterSeconds: 1,
    });
  }
  if (status === 404) return paymentErrors.notFound('The processor does not know this object.', extra);
  if (status === 400) {
    if (providerCode === 'amount_too_large')
      return paymentErrors.refundTooLarge('The refund is larger than what remains of the payment.', extra);
    if (providerCode === 'charge_already_refunded')
      return paymentErrors.alreadyRefunded('The payment has already been refunded in full.', extra);
    if (providerCode === 'charge_not_refundable')
      return paymentErrors.notRefundable('The payment cannot be refunded in its current state.', extra);
    if (providerCode === 'resource_missing' && e.param === 'payment_method') {
      details.field = 'paymentMethod';
      return paymentErrors.paymentMethodUnknown('The processor knows no such payment method.', extra);
    }
    if (e.param) details.field = e.param;
    return paymentErrors.invalidRequest(
      `The processor refused the request${e.param ? ` (${e.param})` : ''}.`,
      extra,
    );
  }
  if (status >= 500) {
    const s = parseRetryAfter(headers['retry-after']);
    return paymentErrors.providerUnavailable('The payment processor is unavailable.', {
      ...extra,
      ...(s !== undefined ? { retryAfterSeconds: s } : {}),
    });
  }
  return paymentErrors.upstreamError(`The payment processor answered ${status} unexpectedly.`, extra);
}

function isAnswer(v: unknown): v is ProviderAnswer {
  return (
    typeof v === 'object' && v !== null && typeof (v as ProviderAnswer).status === 'number' && 'headers' in v
  );
}
