import { z } from 'zod';
import { commaList, envBoolean, envInt, setting } from '../setting.js';

export const coreSettings = {
  port: setting({
    env: 'PORT',
    schema: envInt(0, 65535),
    default: 8080,
    description: 'HTTP port of the gateway.',
  }),
  host: setting({
    env: 'HOST',
    schema: z.string().min(1),
    default: { development: '127.0.0.1', test: '127.0.0.1', production: '0.0.0.0' },
    description: 'Interface the gateway listens on.',
  }),
  logLevel: setting({
    env: 'LOG_LEVEL',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    default: { development: 'info', test: 'silent', production: 'info' },
    description: 'pino log level.',
  }),
  bodyLimitBytes: setting({
    env: 'CAREBRIDGE_BODY_LIMIT_BYTES',
    schema: envInt(1024, 50 * 1024 * 1024),
    default: 1024 * 1024,
    description: 'Largest request body accepted (bytes); larger bodies get 413.',
  }),
  shutdownTimeoutMs: setting({
    env: 'CAREBRIDGE_SHUTDOWN_TIMEOUT_MS',
    schema: envInt(100, 120_000),
    default: 10_000,
    description: 'How long graceful shutdown waits for in-flight requests before closing anyway.',
  }),
  trustProxy: setting({
    env: 'CAREBRIDGE_TRUST_PROXY',
    schema: envBoolean,
    default: false,
    description: 'Trust X-Forwarded-* headers (set behind a load balancer).',
  }),
  databaseUrl: setting({
    env: 'DATABASE_URL',
    schema: z.url({ error: 'expected a postgres:// URL' }).optional(),
    description: 'Postgres connection string. Unset: the embedded PGlite store under CAREBRIDGE_DATA_DIR.',
    secret: true,
  }),
  databasePoolSize: setting({
    env: 'CAREBRIDGE_DATABASE_POOL_SIZE',
    schema: envInt(1, 200),
    default: 10,
    description: 'Postgres connection pool size per gateway instance.',
  }),
  dataDir: setting({
    env: 'CAREBRIDGE_DATA_DIR',
    schema: z.string().min(1),
    default: './.carebridge',
    description: 'Where the embedded PGlite store keeps its files (`memory://` for an in-memory store).',
  }),
  migrateOnStart: setting({
    env: 'CAREBRIDGE_MIGRATE_ON_START',
    schema: envBoolean,
    default: { development: true, test: true, production: false },
    description: 'Apply pending migrations at start-up (production runs `carebridge migrate` instead).',
  }),
  allowInsecureTransport: setting({
    env: 'CAREBRIDGE_ALLOW_INSECURE_TRANSPORT',
    schema: envBoolean,
    default: false,
    description: 'Production only: allow http://, amqp:// and plain-text gRPC/Kafka targets.',
  }),
  allowSandbox: setting({
    env: 'CAREBRIDGE_ALLOW_SANDBOX',
    schema: envBoolean,
    default: false,
    description: 'Production only: allow `sandbox` targets (in-process simulators).',
  }),
  tlsRejectUnauthorized: setting({
    env: 'CAREBRIDGE_TLS_VERIFY',
    schema: envBoolean,
    default: true,
    description: 'Verify TLS certificates of outbound connections. Production refuses false.',
  }),
  featureFlags: setting({
    env: 'CAREBRIDGE_FEATURE_FLAGS',
    schema: commaList,
    default: [],
    description:
      'Feature flags to turn on (`name`) or off (`-name`), comma-separated; the flags are listed under "Feature flags" below. Set in the profile file, a change applies without a restart.',
  }),
  devAdminPassword: setting({
    env: 'CAREBRIDGE_DEV_ADMIN_PASSWORD',
    schema: z.string().min(8, { error: 'expected at least 8 characters' }).optional(),
    default: { development: 'carebridge-dev-admin', test: 'carebridge-dev-admin' },
    description: 'Password of the seeded `admin` user (development and test profiles only).',
    secret: true,
  }),
};
