import { errorFactory } from '../errors/index.js';

/**
 * Codes the resilience kernel adds to the shared catalogue (kernel/errors/catalog.ts already has
 * UPSTREAM_TIMEOUT, UPSTREAM_UNAVAILABLE, UPSTREAM_ERROR, CIRCUIT_OPEN, BULKHEAD_FULL, RATE_LIMITED).
 * Documented in docs/errors.md under "Resilience kernel".
 */
export const resilienceErrors = {
  /** The connection closed after the request was (at least partly) sent: the outcome is unknown. */
  connectionReset: errorFactory('UPSTREAM_CONNECTION_RESET', 502, true),
  /** Our own outbound rate limiter for a provider credential has a full queue; fail fast instead of piling up. */
  rateLimitQueueFull: errorFactory('RATE_LIMIT_QUEUE_FULL', 429, true),
  /** The provider's answer was larger than the client accepts (HttpClient `maxResponseBytes`). */
  responseTooLarge: errorFactory('UPSTREAM_RESPONSE_TOO_LARGE', 502, false),
  /** Certificate or handshake failure: a configuration problem that retrying does not fix. */
  tlsError: errorFactory('UPSTREAM_TLS_ERROR', 502, false),
  /** The provider's token endpoint refused our client credentials (or answered no usable token). */
  authFailed: errorFactory('UPSTREAM_AUTH_FAILED', 502, false),
} as const;
