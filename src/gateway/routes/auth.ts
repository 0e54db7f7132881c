import { z } from 'zod';
import type { AuthenticatedUser } from '../../integrations/users/index.js';
import { errors, isCareBridgeError } from '../../kernel/errors/index.js';
import { safeText } from '../../kernel/schemas/index.js';
import { audit } from '../../kernel/store/index.js';
import type { RouteModule } from '../types.js';

export interface TokenIssuerPort {
  authenticateUser(username: string, password: string): Promise<AuthenticatedUser>;
}

// safeText: a NUL or an unpaired surrogate would fail the user service's lookup (a 502 that counts against
// the users breaker), and an unpaired surrogate in a password would hash as U+FFFD.
const body = z.strictObject({
  username: safeText({ min: 1, max: 128 }),
  password: safeText({ min: 1, max: 1024 }),
});
const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});

/**
 * `POST /v1/auth/token {username, password}` → a bearer token (the one public /v1 route). Before the user
 * service is asked, attempts are limited per client IP and failed attempts per username (a successful
 * sign-in gives its token back); the user service locks a username after repeated failures. Neither
 * answer says whether the username exists. An overloaded sign-in answers 503 USERS_SIGN_IN_BUSY, and only
 * here: sign-in has its own lane in the integration, apart from permission checks.
 */
export function authRoutes(users: TokenIssuerPort): RouteModule {
  return {
    name: 'auth',
    register(app, deps) {
      // Shared by every instance through Redis when REDIS_URL is set (a flood spread over instances is one flood).
      const perIp = deps.limiters.keyed('sign-in:ip', {
        perMinute: deps.config.loginRateLimitPerIpPerMinute,
      });
      const perUser = deps.limiters.keyed('sign-in:username', {
        perMinute: deps.config.loginRateLimitPerUsernamePerMinute,
      });
      app.post(
        '/auth/token',
        {
          config: { public: true },
          schema: {
            tags: ['auth'],
            summary: 'Exchange a username and password for a bearer access token',
            description:
              'Public. Attempts are rate limited per IP, failed attempts per username (429 RATE_LIMITED); repeated failures lock the username for a while (429 USERS_ACCOUNT_LOCKED with Retry-After). A wrong password and an unknown username get the same 401 USERS_INVALID_CREDENTIALS. When sign-in is overloaded: 503 USERS_SIGN_IN_BUSY with Retry-After.',
            body,
            response: { 200: tokenResponse },
          },
        },
        async (request, reply) => {
          const { username, password } = request.body;
          const userKey = username.toLowerCase();
          for (const [limiter, key] of [
            [perIp, request.ip],
            [perUser, userKey],
          ] as const) {
            const r = await limiter.take(key);
            if (!r.ok)
              throw errors.rateLimited('Too many sign-in attempts; wait and try again.', {
                retryAfterSeconds: r.retryAfterSeconds,
              });
          }
          try {
            const res = await users.authenticateUser(username, password);
            // The per-username limit counts failures: a legitimate user signing in often is not throttled.
            await perUser.refund(userKey);
            await audit(deps.store, {
              actor: res.userId,
              action: 'auth.token',
              resource: `user:${res.userId}`,
              outcome: 'success',
              requestId: request.id,
            });
            reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
            return {
              access_token: res.accessToken,
              token_type: 'Bearer' as const,
              expires_in: res.expiresIn,
            };
          } catch (err) {
            if (
              isCareBridgeError(err) &&
              (err.code === 'USERS_INVALID_CREDENTIALS' || err.code === 'USERS_ACCOUNT_LOCKED')
            ) {
              await audit(deps.store, {
                actor: 'anonymous',
                action: 'auth.token',
                resource: 'user:unknown',
                outcome: 'denied',
                requestId: request.id,
                details: { reason: err.code },
              }).catch(() => {});
            }
            throw err;
          }
        },
      );
    },
  };
}
