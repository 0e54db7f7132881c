import { type CareBridgeError, errors } from '../errors/index.js';
import { parseRetryAfter, resilienceErrors } from '../resilience/index.js';
import { ResponseTooLarge } from './exchange.js';
import type { HttpResponse } from './types.js';

const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const RESET = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ECONNABORTED',
]);
const TIMEOUT = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const TLS =
  /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_(VERIFY|GET)_|ERR_OSSL)/;

function codeOf(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    if (code === 'UND_ERR_SOCKET') {
      const inner = (e as { cause?: unknown }).cause;
      const innerCode = inner && (inner as { code?: unknown }).code;
      return typeof innerCode === 'string' ? innerCode : code;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns a transport failure into a CareBridgeError. Whether the request could have reached the provider
 * decides what may be retried: `details.notSent: true` only when no connection was ever made.
 */
export function networkError(
  err: unknown,
  ctx: { integration: string; aborted: boolean; phase: 'request' | 'body' },
): CareBridgeError {
  if (err instanceof ResponseTooLarge) {
    return resilienceErrors.responseTooLarge(
      `${ctx.integration} answered with more than ${err.limit} bytes; the answer was dropped.`,
      { integration: ctx.integration, details: { limitBytes: err.limit } },
    );
  }
  const code = codeOf(err);
  const base = { integration: ctx.integration, cause: err };
  if (ctx.aborted || (err as { name?: string })?.name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return errors.upstreamTimeout(`${ctx.integration} did not answer in time.`, base);
  }
  if (code && TLS.test(code)) {
    return resilienceErrors.tlsError(`The TLS connection to ${ctx.integration} failed (${code}).`, {
      ...base,
      details: { notSent: true },
    });
  }
  if (code && NOT_SENT.has(code)) {
    return errors.upstreamUnavailable(`${ctx.integration} could not be reached (${code}).`, {
      ...base,
      details: { notSent: true },
    });
  }
  if (code && TIMEOUT.has(code))
    return errors.upstreamTimeout(`${ctx.integration} did not answer in time (${code}).`, base);
  if ((code && RESET.has(code)) || ctx.phase === 'body') {
    return resilienceErrors.connectionReset(
      `The connection to ${ctx.integration} closed before the answer was complete.`,
      base,
    );
  }
  return errors.upstreamError(`Calling ${ctx.integration} failed.`, base);
}

/**
 * Maps the statuses that mean "try again" (408, 429, 5xx) to retryable CareBridgeErrors, with the server's
 * Retry-After (seconds or HTTP-date). Other statuses return undefined: the integration maps its own 4xx.
 */
export function upstreamStatusError(
  res: Pick<HttpResponse, 'status' | 'headers'>,
  integration: string,
): CareBridgeError | undefined {
  const s = res.status;
  // The common case (a 2xx/3xx/4xx answer) allocates nothing.
  if (s !== 408 && s !== 429 && s < 500) return undefined;
  const retryAfterSeconds = parseRetryAfter(res.headers['retry-after']);
  const extra = { integration, retryAfterSeconds, details: { upstreamStatus: s } };
  if (s === 408) {
    // The server gave up waiting for our request before processing it.
    return errors.upstreamTimeout(`${integration} timed out reading the request.`, {
      ...extra,
      details: { upstreamStatus: s, notSent: true },
    });
  }
  if (s === 429) return errors.rateLimited(`${integration} is rate limiting us.`, extra);
  if (s === 504) return errors.upstreamTimeout(`${integration}'s gateway timed out.`, extra);
  if (s === 502 || s === 503)
    return errors.upstreamUnavailable(`${integration} is unavailable (${s}).`, extra);
  return errors.upstreamError(`${integration} failed (${s}).`, extra);
}
