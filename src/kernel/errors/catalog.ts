import { CareBridgeError, type CareBridgeErrorOptions } from './carebridge-error.js';

/**
 * Errors that belong to no single integration. Integrations keep their own catalogues next to their code
 * (`integrations/<name>/errors.ts`) and map provider failures there, in one `toCareBridgeError` each.
 */
type Extra = Omit<CareBridgeErrorOptions, 'code' | 'httpStatus' | 'retryable' | 'message'>;

/**
 * Declares one stable error code. Every code declared through errorFactory in src/ must be documented in
 * docs/errors.md (test/docs/error-codes.test.ts scans for it). An integration's catalogue passes its name
 * once here, so no error it raises needs `integration` spelled out again.
 */
export const errorFactory =
  (code: string, httpStatus: number, retryable: boolean, integration?: string) =>
  (message: string, extra: Extra = {}): CareBridgeError =>
    new CareBridgeError({
      code,
      httpStatus,
      retryable,
      message,
      ...(integration ? { integration } : {}),
      ...extra,
    });

export const errors = {
  validation: errorFactory('VALIDATION_FAILED', 400, false),
  badRequest: errorFactory('BAD_REQUEST', 400, false),
  notFound: errorFactory('NOT_FOUND', 404, false),
  routeNotFound: errorFactory('ROUTE_NOT_FOUND', 404, false),
  methodNotAllowed: errorFactory('METHOD_NOT_ALLOWED', 405, false),
  badUrl: errorFactory('BAD_URL', 400, false),
  uriTooLong: errorFactory('URI_TOO_LONG', 414, false),
  headersTooLarge: errorFactory('HEADERS_TOO_LARGE', 431, false),
  requestTimeout: errorFactory('REQUEST_TIMEOUT', 408, false),
  payloadTooLarge: errorFactory('PAYLOAD_TOO_LARGE', 413, false),
  unsupportedMediaType: errorFactory('UNSUPPORTED_MEDIA_TYPE', 415, false),
  unauthenticated: errorFactory('UNAUTHENTICATED', 401, false),
  forbidden: errorFactory('FORBIDDEN', 403, false),
  conflict: errorFactory('CONFLICT', 409, false),
  idempotencyKeyRequired: errorFactory('IDEMPOTENCY_KEY_REQUIRED', 400, false),
  idempotencyKeyInvalid: errorFactory('IDEMPOTENCY_KEY_INVALID', 400, false),
  idempotencyKeyReused: errorFactory('IDEMPOTENCY_KEY_REUSED', 422, false),
  idempotencyInFlight: errorFactory('IDEMPOTENCY_KEY_IN_FLIGHT', 409, true),
  rateLimited: errorFactory('RATE_LIMITED', 429, true),
  featureDisabled: errorFactory('FEATURE_DISABLED', 503, false),
  unsupportedApiVersion: errorFactory('UNSUPPORTED_API_VERSION', 400, false),
  upstreamTimeout: errorFactory('UPSTREAM_TIMEOUT', 504, true),
  upstreamUnavailable: errorFactory('UPSTREAM_UNAVAILABLE', 503, true),
  upstreamError: errorFactory('UPSTREAM_ERROR', 502, true),
  circuitOpen: errorFactory('CIRCUIT_OPEN', 503, true),
  bulkheadFull: errorFactory('BULKHEAD_FULL', 503, true),
  unknownOutcome: errorFactory('UPSTREAM_OUTCOME_UNKNOWN', 502, false),
  dependencyDown: errorFactory('DEPENDENCY_DOWN', 503, true),
  shuttingDown: errorFactory('SHUTTING_DOWN', 503, true),
  configInvalid: errorFactory('CONFIG_INVALID', 500, false),
  outboxDestinationUnknown: errorFactory('OUTBOX_DESTINATION_UNKNOWN', 500, false),
  internal: errorFactory('INTERNAL', 500, false),
} as const;
