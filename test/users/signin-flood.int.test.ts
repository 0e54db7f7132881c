import { describe, expect, it } from 'vitest';
import { JwksCache, TokenAuthenticator } from '../../src/gateway/auth/index.js';
import { authRoutes } from '../../src/gateway/routes/auth.js';
import { usersRoutes } from '../../src/gateway/routes/users.js';
import { buildTestGateway } from '../support/app.js';
import { AUDIENCE, DEV_PASSWORD, ISSUER, startUsersHarness } from './harness.js';

// The incident: a burst of failed sign-ins (below the per-IP limit) outlasted AuthenticateUser's deadline (scrypt on
// a starved thread pool), opened the one breaker sign-in shared with permission checks, and every other caller got
// 503 for ~5 s. The sandbox's latency fault stands in for the slow hashing so the outcome does not depend on the
// machine's speed: every sign-in of the flood outlasts its deadline.
describe('a flood of failed sign-ins', () => {
  it('never gives another principal a 5xx, and sign-in itself answers only 401, 429 or 503', async () => {
    const h = await startUsersHarness();
    // Permission cache off: every request of the other principal asks the user service.
    // The permission lane's deadline is generous (a loaded CI machine must not time it out) but shorter than the
    // flood's 2 s latency: with one shared lane, the flood's timeouts would open the breaker everyone uses.
    const users = h.client({
      deadlineMs: 1_500,
      maxAttempts: 1,
      permissionCache: { ttlMs: 0 },
      signIn: { deadlineMs: 300 },
    });
    const authenticator = new TokenAuthenticator({
      jwks: new JwksCache({ fetch: () => users.getJwks() }),
      decider: users,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const gw = await buildTestGateway({
      routes: [authRoutes(users), usersRoutes(users)],
      authenticator,
      store: h.store,
      // Raised so every attempt of the flood reaches the user service.
      env: {
        CAREBRIDGE_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE: '10000',
        CAREBRIDGE_LOGIN_RATE_LIMIT_PER_USERNAME_PER_MINUTE: '10000',
      },
    });
    try {
      const { accessToken } = await users.authenticateUser('support', DEV_PASSWORD);
      const roles = () =>
        gw.app.inject({
          url: '/v1/users/usr_dev_support/roles',
          headers: { authorization: `Bearer ${accessToken}` },
        });
      expect((await roles()).statusCode).toBe(200);

      h.sandbox.faults.add({ method: 'AuthenticateUser', action: 'latency', delayMs: 2_000 });
      let flooding = true;
      const flood = Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          gw.app.inject({
            method: 'POST',
            url: '/v1/auth/token',
            payload: { username: `ghost-${i % 10}`, password: 'not-the-password' },
          }),
        ),
      ).finally(() => {
        flooding = false;
      });
      // The other principal keeps calling during the flood and a few times after it (while a breaker opened by
      // the flood would still be open).
      const seen: number[] = [];
      const other = (async () => {
        for (let after = 0; flooding || after < 5; after += flooding ? 0 : 1)
          seen.push((await roles()).statusCode);
      })();
      const [signIns] = await Promise.all([flood, other]);

      expect(seen.filter((s) => s >= 500)).toEqual([]);
      expect(seen.every((s) => s === 200)).toBe(true);
      const signInStatuses = new Set(signIns.map((r) => r.statusCode));
      expect([...signInStatuses].filter((s) => ![401, 429, 503].includes(s))).toEqual([]);
      // The flood did overload sign-in, and sign-in said so with its own code and a Retry-After.
      const busy = signIns.filter((r) => r.statusCode === 503);
      expect(busy.length).toBeGreaterThan(0);
      for (const r of busy) {
        expect(r.json().code).toBe('USERS_SIGN_IN_BUSY');
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await gw.close();
      await h.stop();
    }
  });
});
