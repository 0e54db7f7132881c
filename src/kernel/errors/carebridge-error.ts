/**
 * The one error type CareBridge throws across layers. `code` is stable and machine-readable
 * (documented in docs/errors.md; a test fails when a code is missing there), `httpStatus` is what the
 * gateway answers with, `retryable` tells callers and the resilience pipeline whether trying again can help.
 */
export interface CareBridgeErrorOptions {
  code: string;
  message: string;
  httpStatus?: number;
  retryable?: boolean;
  integration?: string;
  cause?: unknown;
  /** Safe, caller-facing extras (never PHI, never upstream bodies): e.g. `{ field: 'amount' }`. */
  details?: Record<string, unknown>;
  /** Seconds the caller should wait before retrying (429/503). */
  retryAfterSeconds?: number;
  /** Headers to add to the HTTP answer (e.g. WWW-Authenticate). */
  headers?: Record<string, string>;
}

export class CareBridgeError extends Error {
  readonly isCareBridgeError = true;
  readonly code: string;
  readonly httpStatus: number;
  readonly retryable: boolean;
  readonly integration: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(opts: CareBridgeErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CareBridgeError';
    this.code = opts.code;
    this.httpStatus = opts.httpStatus ?? 500;
    this.retryable = opts.retryable ?? false;
    this.integration = opts.integration;
    this.details = opts.details;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.headers = opts.headers;
  }
}

/** Works across duplicated module copies (brand check rather than instanceof alone). */
export function isCareBridgeError(err: unknown): err is CareBridgeError {
  return (
    err instanceof CareBridgeError ||
    (typeof err === 'object' &&
      err !== null &&
      (err as { isCareBridgeError?: unknown }).isCareBridgeError === true)
  );
}
