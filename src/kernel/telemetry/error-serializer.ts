import { isCareBridgeError } from '../errors/index.js';
import { maskCredentials } from './redaction.js';

/** A logged error: plain data only, its causes nested under `cause`. */
export interface SerializedError {
  type: string;
  message: string;
  /** A CareBridge code (`USERS_SERVICE_TIMEOUT`), a Node code (`ECONNREFUSED`) or a gRPC status number. */
  code?: string | number;
  integration?: string;
  httpStatus?: number;
  retryable?: boolean;
  retryAfterSeconds?: number;
  /** A CareBridgeError's caller-safe details. */
  details?: Record<string, unknown>;
  syscall?: string;
  address?: string;
  port?: number;
  stack?: string;
  cause?: SerializedError;
}

/** Causes followed below the logged error; deeper ones are cut (`truncated`). */
const MAX_CAUSES = 8;
/** Primitive fields of other errors worth keeping (Node system errors, gRPC statuses). */
const PRIMITIVE_FIELDS = ['code', 'syscall', 'address', 'port'] as const;

/**
 * pino's `err` serializer. pino's standard one copies every enumerable property of an error; a gRPC error's
 * `metadata` then reaches the redaction step, whose clone of it no longer works with Metadata's own `toJSON`,
 * and the whole `err` was logged as "[unable to serialize, circular reference …]" (USERS_* errors, the
 * sign-in flood incident). This one writes an allow-list of fields per error and follows `cause` itself, so
 * the log line always has the code, the message and the cause chain, and never an upstream object.
 */
export function serializeError(err: unknown): unknown {
  return isErrorLike(err) ? link(err, new Set(), 0) : err;
}

function link(err: ErrorLike, seen: Set<unknown>, depth: number): SerializedError {
  seen.add(err);
  // A message or stack can quote a URL with its credentials (a driver's connect error): those are masked.
  const out: SerializedError = { type: typeName(err), message: maskCredentials(err.message) };
  if (isCareBridgeError(err)) {
    out.code = err.code;
    if (err.integration !== undefined) out.integration = err.integration;
    out.httpStatus = err.httpStatus;
    out.retryable = err.retryable;
    if (err.retryAfterSeconds !== undefined) out.retryAfterSeconds = err.retryAfterSeconds;
    if (err.details !== undefined) out.details = err.details;
  } else {
    const fields = err as unknown as Record<string, unknown>;
    for (const key of PRIMITIVE_FIELDS) {
      const v = fields[key];
      if (typeof v === 'string' || typeof v === 'number') Object.assign(out, { [key]: v });
    }
  }
  if (typeof err.stack === 'string') out.stack = maskCredentials(err.stack);
  const cause = (err as { cause?: unknown }).cause;
  if (cause !== undefined && cause !== null) out.cause = causeLink(cause, seen, depth + 1);
  return out;
}

function causeLink(cause: unknown, seen: Set<unknown>, depth: number): SerializedError {
  if (seen.has(cause)) return { type: 'Circular', message: 'a cause seen higher up the chain' };
  if (depth >= MAX_CAUSES) return { type: 'Truncated', message: `more than ${MAX_CAUSES} causes` };
  if (isErrorLike(cause)) return link(cause, seen, depth);
  // A non-error cause (a string, a status object): its kind and, for a primitive, its value; never an object's fields.
  return { type: typeof cause, message: typeof cause === 'object' ? '' : String(cause) };
}

interface ErrorLike {
  message: string;
  name?: string;
  stack?: string;
}

function isErrorLike(v: unknown): v is ErrorLike {
  return typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';
}

function typeName(err: ErrorLike): string {
  const ctor = (err as { constructor?: { name?: unknown } }).constructor;
  if (typeof ctor?.name === 'string' && ctor.name !== '' && ctor.name !== 'Object') return ctor.name;
  return typeof err.name === 'string' ? err.name : 'Error';
}
