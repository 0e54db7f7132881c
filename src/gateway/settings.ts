import { type ConfigOf, envInt, type KernelConfig, setting } from '../kernel/config/index.js';

/** Settings of the gateway's own HTTP surface (per-caller and sign-in rate limits). */
export const gatewaySettings = {
  principalRateLimitPerMinute: setting({
    env: 'CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE',
    schema: envInt(1, 1_000_000),
    default: 600,
    description:
      'Requests per minute per authenticated caller on /v1 (all instances together with REDIS_URL, else per instance); beyond it 429 with Retry-After.',
  }),
  loginRateLimitPerIpPerMinute: setting({
    env: 'CAREBRIDGE_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE',
    schema: envInt(1, 100_000),
    default: 30,
    description:
      'POST /v1/auth/token attempts per minute per client IP (all instances together with REDIS_URL, else per instance).',
  }),
  loginRateLimitPerUsernamePerMinute: setting({
    env: 'CAREBRIDGE_LOGIN_RATE_LIMIT_PER_USERNAME_PER_MINUTE',
    schema: envInt(1, 100_000),
    default: 10,
    description:
      'Failed POST /v1/auth/token attempts per minute per username (a successful sign-in does not count; all instances together with REDIS_URL).',
  }),
};

/** What the gateway reads from the configuration: the kernel's settings and its own. */
export type GatewayConfig = KernelConfig & ConfigOf<typeof gatewaySettings>;
