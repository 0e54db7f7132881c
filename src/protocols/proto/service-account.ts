/**
 * The service-account credential of `carebridge.users.v1`, shared by clients and the reference server.
 *
 * A caller holds a private key (ES256 or EdDSA); the service knows its public key and scopes. On every
 * call the caller sends `authorization: Bearer <jwt>` metadata, a JWT it signed itself (the shape of a
 * Google service-account JWT or an RFC 7523 client assertion): `iss` = `sub` = the account id,
 * `aud` = SERVICE_ACCOUNT_AUDIENCE, short `exp`, a `jti`, and `kid` = the account id in the header.
 */
export const SERVICE_ACCOUNT_AUDIENCE = 'carebridge.users.v1';

/** Longest lifetime the server accepts for a service-account JWT. */
export const SERVICE_ACCOUNT_MAX_TTL_SECONDS = 3600;

/** Scopes, one per group of RPCs (see the comments in proto/carebridge/users/v1/*.proto). */
export const SCOPES = {
  authenticate: 'users.authenticate',
  usersRead: 'users.read',
  usersWrite: 'users.write',
  rolesRead: 'roles.read',
  rolesWrite: 'roles.write',
  permissionsCheck: 'permissions.check',
} as const;
export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/** What a gateway needs: authenticate users, read roles, check permissions (no writes). */
export const GATEWAY_SCOPES: Scope[] = [
  SCOPES.authenticate,
  SCOPES.usersRead,
  SCOPES.rolesRead,
  SCOPES.permissionsCheck,
];

/** Metadata key carrying the seconds a locked account must wait (on RESOURCE_EXHAUSTED). */
export const RETRY_AFTER_METADATA = 'retry-after-seconds';

/**
 * Trailing metadata naming why a call failed (in the spirit of google.rpc.ErrorInfo.reason): it tells a
 * user's bad password apart from the caller's bad service-account token, both UNAUTHENTICATED.
 */
export const ERROR_REASON_METADATA = 'error-reason';
export const ERROR_REASONS = {
  invalidCredentials: 'INVALID_CREDENTIALS',
  accountLocked: 'ACCOUNT_LOCKED',
  serviceAccountInvalid: 'SERVICE_ACCOUNT_INVALID',
  scopeMissing: 'SCOPE_MISSING',
} as const;
