import { z } from 'zod';
import { envBoolean, envInt, setting } from '../../kernel/config/index.js';

/** `sandbox`, `host:port`, or `dns:///host:port` (DNS discovery, round-robin over every address). */
const grpcTarget = z.union(
  [z.literal('sandbox'), z.string().regex(/^(dns:\/\/\/)?[A-Za-z0-9.-]+:\d{1,5}$|^(ipv4|ipv6):.+$/)],
  {
    error: 'expected "sandbox", host:port or dns:///host:port',
  },
);
const optionalFile = z.string().min(1).optional();

/** Settings of the users area. Owned by that area; each entry is documented in the README's table. */
export const usersSettings = {
  usersTarget: setting({
    env: 'USERS_TARGET',
    schema: grpcTarget,
    default: { development: 'sandbox', test: 'sandbox' },
    description:
      'gRPC target of the user-management service: host:port, dns:///host:port, or `sandbox` (in-process reference service).',
    transport: 'grpc-target',
    requiredInProduction: true,
  }),
  usersTls: setting({
    env: 'USERS_TLS',
    schema: envBoolean,
    default: { development: false, test: false, production: true },
    description:
      'Use TLS to the user service. Production refuses false unless CAREBRIDGE_ALLOW_INSECURE_TRANSPORT=true.',
  }),
  usersTlsCaFile: setting({
    env: 'USERS_TLS_CA_FILE',
    schema: optionalFile,
    description: 'PEM CA bundle that signed the user service certificate (default: system roots).',
  }),
  usersTlsCertFile: setting({
    env: 'USERS_TLS_CERT_FILE',
    schema: optionalFile,
    description: 'PEM client certificate for mTLS to the user service.',
  }),
  usersTlsKeyFile: setting({
    env: 'USERS_TLS_KEY_FILE',
    schema: optionalFile,
    description: 'PEM private key of USERS_TLS_CERT_FILE.',
  }),
  usersTlsServerName: setting({
    env: 'USERS_TLS_SERVER_NAME',
    schema: z.string().min(1).optional(),
    description: 'Name expected in the user service certificate when it differs from the target host.',
  }),
  usersServiceAccountId: setting({
    env: 'USERS_SERVICE_ACCOUNT_ID',
    schema: z.string().regex(/^svc_[a-z0-9_-]{1,60}$/, { error: 'expected svc_<name>' }),
    default: 'svc_gateway',
    description:
      'Service account the gateway presents to the user service (`kid`, `iss` and `sub` of its JWT).',
  }),
  usersServiceAccountKey: setting({
    env: 'USERS_SERVICE_ACCOUNT_KEY',
    schema: z.string().includes('PRIVATE KEY', { error: 'expected a PKCS#8 PEM private key' }).optional(),
    description:
      'PKCS#8 PEM private key (EC P-256) of the service account. With USERS_TARGET=sandbox a key is generated at start.',
    secret: true,
  }),
  usersDeadlineMs: setting({
    env: 'USERS_DEADLINE_MS',
    schema: envInt(10, 60_000),
    default: 1_000,
    description: 'Deadline of every user-service call (ms).',
  }),
  usersSignInDeadlineMs: setting({
    env: 'USERS_SIGN_IN_DEADLINE_MS',
    schema: envInt(10, 60_000),
    default: 3_000,
    description:
      'Deadline of a sign-in (AuthenticateUser; password hashing is slow on purpose) in ms. Sign-in has its own deadline, bulkhead and breaker, apart from permission checks.',
  }),
  usersSignInMaxConcurrent: setting({
    env: 'USERS_SIGN_IN_MAX_CONCURRENT',
    schema: envInt(1, 1_000),
    default: 8,
    description: 'Sign-ins in flight to the user service at once (per instance).',
  }),
  usersSignInMaxQueued: setting({
    env: 'USERS_SIGN_IN_MAX_QUEUED',
    schema: envInt(0, 10_000),
    default: 16,
    description:
      'Sign-ins waiting for a slot (per instance); beyond it, and while the sign-in breaker is open, 503 USERS_SIGN_IN_BUSY.',
  }),
  usersMaxAttempts: setting({
    env: 'USERS_MAX_ATTEMPTS',
    schema: envInt(1, 5),
    default: 3,
    description: 'Attempts of a user-service call failing with UNAVAILABLE (gRPC service-config retry).',
  }),
  usersKeepaliveMs: setting({
    env: 'USERS_KEEPALIVE_MS',
    schema: envInt(10_000, 600_000),
    default: 30_000,
    description: 'HTTP/2 keepalive ping interval of the user-service channel (ms).',
  }),
  usersPermissionCacheTtlMs: setting({
    env: 'USERS_PERMISSION_CACHE_TTL_MS',
    schema: envInt(0, 300_000),
    default: 10_000,
    description:
      'How long a permission decision is reused (ms); 0 turns the cache off. A role change takes effect within this.',
  }),
  usersPermissionCacheMax: setting({
    env: 'USERS_PERMISSION_CACHE_MAX',
    schema: envInt(1, 10_000_000),
    default: 10_000,
    description: 'Most permission decisions cached per gateway instance.',
  }),
  usersTokenIssuer: setting({
    env: 'USERS_TOKEN_ISSUER',
    schema: z.string().min(1),
    default: 'carebridge-users',
    description: '`iss` of user access tokens (checked by the gateway; issued so by the sandbox).',
  }),
  usersTokenAudience: setting({
    env: 'USERS_TOKEN_AUDIENCE',
    schema: z.string().min(1),
    default: 'carebridge-gateway',
    description: '`aud` of user access tokens.',
  }),
  usersJwksCacheMs: setting({
    env: 'USERS_JWKS_CACHE_MS',
    schema: envInt(1_000, 86_400_000),
    default: 300_000,
    description:
      'How long the gateway reuses the user service key set (ms); an unknown key id refetches sooner.',
  }),
  usersSandboxPort: setting({
    env: 'USERS_SANDBOX_PORT',
    schema: envInt(0, 65535),
    default: 0,
    description: 'Loopback port of the in-process user service (USERS_TARGET=sandbox); 0 picks a free port.',
  }),
  usersSandboxTokenTtlSeconds: setting({
    env: 'USERS_SANDBOX_TOKEN_TTL_SECONDS',
    schema: envInt(30, 86_400),
    default: 900,
    description: 'Lifetime of access tokens the in-process user service issues.',
  }),
  usersSandboxLockoutThreshold: setting({
    env: 'USERS_SANDBOX_LOCKOUT_THRESHOLD',
    schema: envInt(1, 100),
    default: 5,
    description: 'Failed sign-ins per username before the in-process user service locks it.',
  }),
  usersSandboxLockoutSeconds: setting({
    env: 'USERS_SANDBOX_LOCKOUT_SECONDS',
    schema: envInt(1, 86_400),
    default: 900,
    description: 'How long a locked username stays locked (in-process user service).',
  }),
};
