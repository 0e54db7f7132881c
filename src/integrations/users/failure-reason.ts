import { type ServiceError, status } from '@grpc/grpc-js';
import { socketFailureReason } from '../../kernel/telemetry/index.js';
import { ERROR_REASON_METADATA, ERROR_REASONS, GATEWAY_SCOPES } from '../../protocols/proto/index.js';
import { isServiceError } from './errors.js';

export interface UsersEndpoint {
  /** USERS_TARGET as dialled (`host:port` or `dns:///host:port`). */
  target: string;
  /** The gateway's service account (USERS_SERVICE_ACCOUNT_ID). */
  accountId: string;
  deadlineMs: number;
}

/** Refusals of the gateway's own credentials (not a user's wrong password), which no retry fixes. */
export type Refusal = 'authentication' | 'scope';

export function refusalOf(err: unknown): Refusal | undefined {
  if (!isServiceError(err)) return undefined;
  if (err.code === status.PERMISSION_DENIED) return 'scope';
  if (err.code !== status.UNAUTHENTICATED) return undefined;
  const reason = err.metadata?.get(ERROR_REASON_METADATA)[0];
  return reason === ERROR_REASONS.invalidCredentials ? undefined : 'authentication';
}

/**
 * Why the user service cannot be used, in plain words with the setting to check. grpc-js folds the socket error
 * into UNAVAILABLE's text ("No connection established. Last error: connect ECONNREFUSED …", "Name resolution
 * failed for target …"); the service's refusals of the service account carry its own words in `details`.
 */
export function describeUsersFailure(err: unknown, at: UsersEndpoint): string {
  if (!isServiceError(err)) return err instanceof Error ? err.message.slice(0, 200) : String(err);
  const where = at.target.replace(/^dns:\/{0,3}/, '');
  const details = (err as ServiceError).details ?? '';
  switch (err.code) {
    case status.UNAVAILABLE: {
      if (/Name resolution failed/i.test(details))
        return `host not found: ${where} (DNS lookup failed) (check USERS_TARGET)`;
      const socket = socketFailureReason(err, where);
      if (socket) return `${socket} (check USERS_TARGET)`;
      if (/TLS|SSL|certificate|secure/i.test(details))
        return `TLS handshake with ${where} failed: ${tail(details)} (check USERS_TLS and its CA/certificate files)`;
      if (/Failed to connect/i.test(details))
        return `no gRPC server answered at ${where} (another service on that port, or USERS_TLS does not match the server?)`;
      return `${where} is unavailable: ${tail(details)}`;
    }
    case status.DEADLINE_EXCEEDED:
      return `no answer from ${where} within ${at.deadlineMs} ms (check USERS_TARGET; USERS_DEADLINE_MS)`;
    case status.UNAUTHENTICATED:
      return `the user service refused the service account '${at.accountId}': ${tail(details)} (check USERS_SERVICE_ACCOUNT_ID / USERS_SERVICE_ACCOUNT_KEY and the key registered for it)`;
    case status.PERMISSION_DENIED:
      return `the user service refused the service account '${at.accountId}': ${tail(details)} (it needs the scopes ${GATEWAY_SCOPES.join(', ')})`;
    default:
      return `${status[err.code] ?? err.code}: ${tail(details)}`;
  }
}

/** The informative end of a grpc-js `details` ("No connection established. Last error: X. Resolution note: "). */
function tail(details: string): string {
  const last = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/.exec(details);
  return (last?.[1] ?? details).slice(0, 160) || 'no details';
}
