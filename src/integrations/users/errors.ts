import { type ServiceError, status } from '@grpc/grpc-js';
import { type CareBridgeError, errorFactory, isCareBridgeError } from '../../kernel/errors/index.js';
import { ERROR_REASON_METADATA, ERROR_REASONS, RETRY_AFTER_METADATA } from '../../protocols/proto/index.js';

const INTEGRATION = 'users';

/** The identity integration's error codes (docs/errors.md, "Identity"). */
export const usersErrors = {
  invalidCredentials: errorFactory('USERS_INVALID_CREDENTIALS', 401, false, INTEGRATION),
  accountLocked: errorFactory('USERS_ACCOUNT_LOCKED', 429, true, INTEGRATION),
  unavailable: errorFactory('USERS_SERVICE_UNAVAILABLE', 503, true, INTEGRATION),
  timeout: errorFactory('USERS_SERVICE_TIMEOUT', 504, true, INTEGRATION),
  serviceAccountRejected: errorFactory('USERS_SERVICE_ACCOUNT_REJECTED', 502, false, INTEGRATION),
  notFound: errorFactory('USERS_NOT_FOUND', 404, false, INTEGRATION),
  invalidArgument: errorFactory('USERS_INVALID_ARGUMENT', 400, false, INTEGRATION),
  upstream: errorFactory('USERS_UPSTREAM_ERROR', 502, true, INTEGRATION),
  /** Sign-in only: its bulkhead is full, its breaker open, it timed out, or the service has no hashing slot. */
  signInBusy: errorFactory('USERS_SIGN_IN_BUSY', 503, true, INTEGRATION),
} as const;

function trailer(err: ServiceError, key: string): string | undefined {
  const v = err.metadata?.get(key)[0];
  return typeof v === 'string' ? v : undefined;
}

/** True for errors grpc-js raises for a call that failed with a status. */
export function isServiceError(err: unknown): err is ServiceError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'number' &&
    'details' in err
  );
}

/** The one place gRPC statuses become CareBridgeErrors. Upstream `details` stay in `cause`, never in the message. */
export function toCareBridgeError(err: unknown, operation: string): CareBridgeError {
  const extra = { cause: err, details: { operation } };
  if (!isServiceError(err)) return usersErrors.upstream(`The user service call ${operation} failed.`, extra);
  const reason = trailer(err, ERROR_REASON_METADATA);
  switch (err.code) {
    case status.UNAUTHENTICATED:
      return reason === ERROR_REASONS.invalidCredentials
        ? usersErrors.invalidCredentials('The username or password is incorrect.', extra)
        : usersErrors.serviceAccountRejected(
            'The user service rejected the gateway service-account credentials.',
            extra,
          );
    case status.PERMISSION_DENIED:
      return usersErrors.serviceAccountRejected(
        'The gateway service account lacks a scope the user service requires.',
        extra,
      );
    case status.RESOURCE_EXHAUSTED: {
      const seconds = Number(trailer(err, RETRY_AFTER_METADATA));
      if (reason === ERROR_REASONS.accountLocked) {
        return usersErrors.accountLocked('Too many failed sign-ins; try again later.', {
          ...extra,
          ...(Number.isFinite(seconds) && seconds > 0 ? { retryAfterSeconds: seconds } : {}),
        });
      }
      const retryAfterSeconds = Number.isFinite(seconds) && seconds > 0 ? seconds : 1;
      return operation === 'AuthenticateUser'
        ? usersErrors.signInBusy('Too many sign-ins are in progress; try again shortly.', {
            ...extra,
            retryAfterSeconds,
          })
        : usersErrors.unavailable('The user service is overloaded.', { ...extra, retryAfterSeconds });
    }
    case status.UNAVAILABLE:
      return usersErrors.unavailable('The user service is unreachable.', extra);
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return usersErrors.timeout('The user service did not answer within the deadline.', extra);
    case status.NOT_FOUND:
      return usersErrors.notFound('No such user.', extra);
    case status.INVALID_ARGUMENT:
      return usersErrors.invalidArgument(
        `The user service refused the request: ${err.details}`.slice(0, 200),
        extra,
      );
    default:
      return usersErrors.upstream(
        `The user service call ${operation} failed (${status[err.code] ?? err.code}).`,
        extra,
      );
  }
}

/** Refusals of sign-in's own resilience lane, and its timeouts: overload, answered as one retryable code. */
const SIGN_IN_OVERLOAD = new Set([
  'CIRCUIT_OPEN',
  'BULKHEAD_FULL',
  'UPSTREAM_TIMEOUT',
  'USERS_SERVICE_TIMEOUT',
]);

/**
 * What a failed sign-in tells the caller. An overloaded sign-in (its bulkhead full, its breaker open, no answer
 * within its deadline) is 503 USERS_SIGN_IN_BUSY with Retry-After, whatever layer refused it; the rest as is.
 */
export function toSignInError(err: unknown): unknown {
  if (!isCareBridgeError(err) || !SIGN_IN_OVERLOAD.has(err.code)) return err;
  return usersErrors.signInBusy('Sign-in is overloaded right now; try again shortly.', {
    integration: INTEGRATION,
    cause: err,
    retryAfterSeconds: err.retryAfterSeconds ?? 1,
  });
}
