import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersComponent } from '../../src/cli/components/users.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { JwksCache, TokenAuthenticator } from '../../src/gateway/auth/index.js';
import { usersRoutes } from '../../src/gateway/routes/users.js';
import type { RouteModule } from '../../src/gateway/types.js';
import { readAudit } from '../../src/kernel/store/audit.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { allowAll, buildTestGateway } from '../support/app.js';
import { AUDIENCE, DEV_PASSWORD, ISSUER, startUsersHarness } from './harness.js';

const PASSWORD = 'gateway-test-password';

describe('POST /v1/auth/token and the users routes under the users component', () => {
  let rt: Runtime;
  beforeAll(async () => {
    const config = loadConfig({
      env: {
        CAREBRIDGE_PROFILE: 'test',
        CAREBRIDGE_DATA_DIR: 'memory://',
        CAREBRIDGE_DEV_ADMIN_PASSWORD: PASSWORD,
        USERS_SANDBOX_LOCKOUT_THRESHOLD: '3',
        CAREBRIDGE_LOGIN_RATE_LIMIT_PER_USERNAME_PER_MINUTE: '6',
      },
      cwd: '/nonexistent',
    });
    rt = await createRuntime({
      config,
      logger: createLogger({ level: 'silent' }),
      components: [usersComponent],
    });
  });
  afterAll(() => rt.stop());

  const token = (username: string, password: string) =>
    rt.app.inject({ method: 'POST', url: '/v1/auth/token', payload: { username, password } });

  it('issues a bearer token to the development admin that opens /v1 routes', async () => {
    const res = await token('admin', PASSWORD);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const roles = await rt.app.inject({
      url: '/v1/users/usr_dev_support/roles',
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(roles.statusCode).toBe(200);
    expect(roles.json().roles[0].name).toBe('support');
    const audit = await readAudit(rt.store, { action: 'auth.token', actor: 'usr_dev_admin' });
    expect(audit[0]).toMatchObject({ outcome: 'success', resource: 'user:usr_dev_admin' });
  });

  it('answers a wrong password and an unknown user with the same problem', async () => {
    const a = await token('support', 'wrong-password');
    const b = await token('no-such-user', 'wrong-password');
    expect(a.statusCode).toBe(401);
    expect(a.headers['content-type']).toMatch(/application\/problem\+json/);
    const strip = (r: typeof a) => ({ ...r.json(), requestId: undefined });
    expect(strip(b)).toEqual(strip(a));
  });

  it('locks a username after repeated failures with 429 and Retry-After, whether or not it exists', async () => {
    for (const name of ['pharmacist', 'ghost']) {
      for (let i = 0; i < 3; i++) expect((await token(name, 'wrong-password')).statusCode).toBe(401);
      const locked = await token(name, name === 'pharmacist' ? PASSWORD : 'whatever');
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('USERS_ACCOUNT_LOCKED');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('rate limits failed sign-in attempts per username; successful ones do not count', async () => {
    for (let i = 0; i < 7; i++) expect((await token('billing', PASSWORD)).statusCode).toBe(200);
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await token('intruder', 'wrong-password')).statusCode);
    // Three failures lock the username in the service (429 USERS_ACCOUNT_LOCKED); those count too.
    expect(codes).toEqual([401, 401, 401, 429, 429, 429]);
    const limited = await token('intruder', 'wrong-password');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('checks permissions in a batch for another subject', async () => {
    const admin = (await token('admin', PASSWORD)).json().access_token;
    const res = await rt.app.inject({
      method: 'POST',
      url: '/v1/permissions/check',
      headers: { authorization: `Bearer ${admin}` },
      payload: { subject: 'usr_dev_pharmacist', permissions: ['claims:submit', 'payments:read'] },
    });
    expect(res.json()).toEqual({
      subject: 'usr_dev_pharmacist',
      results: [
        { permission: 'claims:submit', allowed: true },
        { permission: 'payments:read', allowed: false },
      ],
    });
  });

  it('refuses a NUL in the subject with a 400 before asking the user service (the breaker stays closed)', async () => {
    const admin = (await token('admin', PASSWORD)).json().access_token;
    const check = (subject: string) =>
      rt.app.inject({
        method: 'POST',
        url: '/v1/permissions/check',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ subject, permissions: ['claims:submit'] }),
      });
    // More than the breaker's threshold of consecutive failures, were they to reach the user service.
    for (const subject of ['usr_\u0000', 'usr_dev_\ud800', 'a\u0000b', `usr_${'a'.repeat(200)}`, 'x', 'y']) {
      const res = await check(subject);
      expect(res.statusCode, `${JSON.stringify(subject)}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.subject' });
    }
    const ok = await check('usr_dev_pharmacist');
    expect(ok.statusCode).toBe(200);
    expect(ok.json().results).toEqual([{ permission: 'claims:submit', allowed: true }]);
  });

  it('refuses a NUL in the username or password at sign-in with a 400 naming the field', async () => {
    const res = await rt.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ username: 'ad\u0000min', password: 'x' }),
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.username' });
    const pw = await token('nobody', 'pass\ud800word');
    expect(pw.statusCode, pw.body).toBe(400);
    expect(pw.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'body.password' });
  });

  it('shows the user service in readiness with its address, and sign-in’s breaker as its own entry', async () => {
    const res = await rt.app.inject({ url: '/health/ready' });
    expect(res.json().checks.users).toMatchObject({
      status: 'up',
      required: true,
      target: expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+$/),
    });
    expect(res.json().checks['breaker:users.sign-in']).toMatchObject({ status: 'up', required: false });
    expect(res.json().checks['breaker:users.grpc']).toMatchObject({ status: 'up', required: false });
  });
});

describe('when the user service goes down', () => {
  it('serves decisions still cached, then fails closed with 503 and readiness shows it', async () => {
    const h = await startUsersHarness();
    const users = h.client({ maxAttempts: 2, deadlineMs: 500 });
    const authenticator = new TokenAuthenticator({
      jwks: new JwksCache({ fetch: () => users.getJwks() }),
      decider: users,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const gw = await buildTestGateway({ routes: [usersRoutes(users)], authenticator, store: h.store });
    gw.deps.health.register({
      name: 'users',
      required: true,
      target: h.sandbox.address,
      check: () => users.checkHealth(),
    });
    try {
      const bearer = {
        authorization: `Bearer ${(await users.authenticateUser('support', DEV_PASSWORD)).accessToken}`,
      };
      expect(
        (await gw.app.inject({ url: '/v1/users/usr_dev_support/roles', headers: bearer })).statusCode,
      ).toBe(200);
      await h.sandbox.stop();

      // roles:read was decided a moment ago and is served from the permission cache (the handler then fails: 503).
      const cached = await gw.app.inject({ url: '/v1/users/usr_dev_support/roles', headers: bearer });
      expect(cached.json().code).toBe('USERS_SERVICE_UNAVAILABLE');
      // permissions:check was never decided: deny, as a retryable 503, never 200.
      const denied = await gw.app.inject({
        method: 'POST',
        url: '/v1/permissions/check',
        headers: bearer,
        payload: { permissions: ['payments:read'] },
      });
      expect(denied.statusCode).toBe(503);
      expect(denied.json().code).toBe('DEPENDENCY_DOWN');
      expect(denied.headers['retry-after']).toBeDefined();

      const ready = await gw.app.inject({ url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json().checks.users.status).toBe('down');
    } finally {
      await gw.close();
      await h.stop();
    }
  });
});

describe('per-principal rate limit on /v1', () => {
  it('answers 429 with Retry-After once a caller spends its budget, without touching other callers', async () => {
    const echo: RouteModule = {
      name: 'echo',
      register: (app) =>
        void app.get('/echo', { config: { permission: 'echo:read' } }, async () => ({ ok: true })),
    };
    let who = 'usr_a';
    const gw = await buildTestGateway({
      routes: [echo],
      authenticator: { ...allowAll, authenticate: async () => ({ subject: who, kind: 'user', roles: [] }) },
      env: { CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '2' },
    });
    try {
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await gw.app.inject({ url: '/v1/echo' })).statusCode);
      expect(codes).toEqual([200, 200, 429]);
      const limited = await gw.app.inject({ url: '/v1/echo' });
      expect(limited.json().code).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      who = 'usr_b';
      expect((await gw.app.inject({ url: '/v1/echo' })).statusCode).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
