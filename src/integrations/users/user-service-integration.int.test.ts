import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PASSWORD, startUsersHarness, type UsersHarness } from '../../../test/users/harness.js';
import { SCOPES } from '../../protocols/proto/index.js';

describe('UserServiceIntegration over plain-text loopback gRPC', () => {
  let h: UsersHarness;
  beforeAll(async () => {
    h = await startUsersHarness();
  });
  afterAll(() => h.stop());

  it('authenticates the development admin and returns a bearer token with its roles', async () => {
    const res = await h.client().authenticateUser('admin', DEV_PASSWORD);
    expect(res.tokenType).toBe('Bearer');
    expect(res.userId).toBe('usr_dev_admin');
    expect(res.roles).toEqual(['admin']);
    expect(res.accessToken.split('.')).toHaveLength(3);
  });

  it('answers a wrong password and an unknown user the same way', async () => {
    const c = h.client();
    const wrong = await c.authenticateUser('support', 'not-the-password').catch((e) => e);
    const unknown = await c.authenticateUser('nobody-here', 'not-the-password').catch((e) => e);
    expect(wrong.code).toBe('USERS_INVALID_CREDENTIALS');
    expect(unknown.code).toBe(wrong.code);
    expect(unknown.message).toBe(wrong.message);
  });

  it('locks a username after repeated failures, existing or not, with a retry-after', async () => {
    const c = h.client();
    for (const name of ['pharmacist', 'ghost-user']) {
      for (let i = 0; i < 3; i++)
        await expect(c.authenticateUser(name, 'bad-password')).rejects.toMatchObject({
          code: 'USERS_INVALID_CREDENTIALS',
        });
      const locked = await c
        .authenticateUser(name, name === 'pharmacist' ? DEV_PASSWORD : 'x')
        .catch((e) => e);
      expect(locked.code).toBe('USERS_ACCOUNT_LOCKED');
      expect(locked.httpStatus).toBe(429);
      expect(locked.retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it('reads a user’s roles with their permissions', async () => {
    const roles = await h.client().getUserRoles('usr_dev_billing');
    expect(roles.map((r) => r.name)).toEqual(['billing']);
    expect(roles[0]!.permissions).toContain('payments:*');
    await expect(h.client().getUserRoles('usr_missing')).rejects.toMatchObject({ code: 'USERS_NOT_FOUND' });
  });

  it('checks single permissions with wildcards', async () => {
    const c = h.client();
    expect(
      await c.checkPermission({ subject: 'usr_dev_billing', resource: 'payments', action: 'create' }),
    ).toBe(true);
    expect(await c.checkPermission({ subject: 'usr_dev_billing', resource: 'claims', action: 'read' })).toBe(
      true,
    );
    expect(
      await c.checkPermission({ subject: 'usr_dev_support', resource: 'payments', action: 'create' }),
    ).toBe(false);
    expect(await c.checkPermission({ subject: 'usr_unknown', resource: 'payments', action: 'read' })).toBe(
      false,
    );
  });

  it('checks a batch with a per-item result or error', async () => {
    const res = await h.client().checkPermissions([
      { subject: 'usr_dev_pharmacist', resource: 'notifications', action: 'send' },
      { subject: 'usr_dev_pharmacist', resource: 'payments', action: 'read' },
      { subject: 'usr_dev_pharmacist', resource: 'Bad Resource', action: 'read' },
    ]);
    expect(res[0]).toEqual({ allowed: true });
    expect(res[1]).toEqual({ allowed: false });
    expect(res[2]).toMatchObject({ error: { code: 'USERS_INVALID_ARGUMENT' } });
  });

  it('serves a repeated check from the cache and shares identical in-flight checks', async () => {
    const c = h.client();
    h.sandbox.faults.clear();
    const check = { subject: 'usr_dev_support', resource: 'users', action: 'read' };
    const answers = await Promise.all([
      c.checkPermission(check),
      c.checkPermission(check),
      c.checkPermission(check),
    ]);
    expect(answers).toEqual([true, true, true]);
    expect(await c.checkPermission(check)).toBe(true);
    expect(h.sandbox.faults.count('CheckPermission')).toBe(1);
  });

  it('never caches a failure as a deny', async () => {
    const c = h.client({ maxAttempts: 1 });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'CheckPermission', action: 'error', code: status.UNAVAILABLE, count: 1 });
    const check = { subject: 'usr_dev_admin', resource: 'refunds', action: 'create' };
    await expect(c.checkPermission(check)).rejects.toMatchObject({
      code: 'USERS_SERVICE_UNAVAILABLE',
      retryable: true,
    });
    expect(await c.checkPermission(check)).toBe(true);
  });

  it('retries UNAVAILABLE through the service config', async () => {
    const c = h.client({ maxAttempts: 3 });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'GetUserRoles', action: 'error', code: status.UNAVAILABLE, count: 2 });
    expect((await c.getUserRoles('usr_dev_support')).map((r) => r.name)).toEqual(['support']);
    expect(h.sandbox.faults.count('GetUserRoles')).toBe(3);
  });

  it('does not retry other failures', async () => {
    const c = h.client({ maxAttempts: 3 });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'GetUserRoles', action: 'error', code: status.INTERNAL, count: 1 });
    await expect(c.getUserRoles('usr_dev_support')).rejects.toMatchObject({ code: 'USERS_UPSTREAM_ERROR' });
    expect(h.sandbox.faults.count('GetUserRoles')).toBe(1);
  });

  it('gives up at the deadline with USERS_SERVICE_TIMEOUT', async () => {
    const c = h.client({ deadlineMs: 100 });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'GetUserRoles', action: 'latency', delayMs: 400, count: 1 });
    await expect(c.getUserRoles('usr_dev_support')).rejects.toMatchObject({
      code: 'USERS_SERVICE_TIMEOUT',
      httpStatus: 504,
    });
  });

  it('gives sign-in a deadline of its own, longer than the other calls’', async () => {
    const c = h.client({ deadlineMs: 100, signIn: { deadlineMs: 5_000 } });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'AuthenticateUser', action: 'latency', delayMs: 400, count: 1 });
    h.sandbox.faults.add({ method: 'GetUserRoles', action: 'latency', delayMs: 400, count: 1 });
    expect((await c.authenticateUser('admin', DEV_PASSWORD)).userId).toBe('usr_dev_admin');
    await expect(c.getUserRoles('usr_dev_support')).rejects.toMatchObject({ code: 'USERS_SERVICE_TIMEOUT' });
  });

  it('answers an overloaded sign-in with USERS_SIGN_IN_BUSY and opens only sign-in’s breaker', async () => {
    const c = h.client({ maxAttempts: 1, signIn: { deadlineMs: 100 } });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'AuthenticateUser', action: 'latency', delayMs: 400, count: 5 });
    for (let i = 0; i < 5; i++)
      await expect(c.authenticateUser('ghost-busy', 'x')).rejects.toMatchObject({
        code: 'USERS_SIGN_IN_BUSY',
        httpStatus: 503,
        retryable: true,
        cause: { code: 'USERS_SERVICE_TIMEOUT' },
      });
    const open = await c.authenticateUser('admin', DEV_PASSWORD).catch((e) => e);
    expect(open).toMatchObject({ code: 'USERS_SIGN_IN_BUSY', cause: { code: 'CIRCUIT_OPEN' } });
    expect(open.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(h.sandbox.faults.count('AuthenticateUser')).toBe(5);
    // The other calls have their own breaker, still closed.
    expect(await c.checkPermission({ subject: 'usr_dev_admin', resource: 'x', action: 'y' })).toBe(true);
    expect((await c.getUserRoles('usr_dev_support')).map((r) => r.name)).toEqual(['support']);
  });

  it('refuses a sign-in beyond its bulkhead at once with USERS_SIGN_IN_BUSY', async () => {
    const c = h.client({ signIn: { maxConcurrent: 1, maxQueued: 0 } });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'AuthenticateUser', action: 'latency', delayMs: 200, count: 1 });
    const first = c.authenticateUser('admin', DEV_PASSWORD);
    await expect(c.authenticateUser('admin', DEV_PASSWORD)).rejects.toMatchObject({
      code: 'USERS_SIGN_IN_BUSY',
      cause: { code: 'BULKHEAD_FULL' },
    });
    expect((await first).userId).toBe('usr_dev_admin');
    expect(h.sandbox.faults.count('AuthenticateUser')).toBe(1);
  });

  it('rejects a caller without a service-account token, and one lacking a scope', async () => {
    const key = await h.addAccount('svc_readonly', [SCOPES.rolesRead]);
    const limited = h.client({ account: 'svc_readonly', key });
    expect((await limited.getUserRoles('usr_dev_admin')).length).toBe(1);
    await expect(
      limited.checkPermission({ subject: 'usr_dev_admin', resource: 'a', action: 'b' }),
    ).rejects.toMatchObject({
      code: 'USERS_SERVICE_ACCOUNT_REJECTED',
    });
    const forged = h.client({ account: 'svc_gateway', key });
    await expect(forged.getUserRoles('usr_dev_admin')).rejects.toMatchObject({
      code: 'USERS_SERVICE_ACCOUNT_REJECTED',
    });
  });

  it('resolves dns:/// targets and balances round-robin over every address', async () => {
    const { startUserService } = await import('../../sandbox/users/index.js');
    const { createLogger } = await import('../../kernel/telemetry/index.js');
    const second = await startUserService({
      store: h.store,
      logger: createLogger({ level: 'silent' }),
      issuer: 'i',
      audience: 'a',
      tokenTtlSeconds: 60,
      lockout: { threshold: 5, lockSeconds: 60 },
    });
    try {
      expect(
        await h
          .client({ target: `dns:///localhost:${h.sandbox.port}` })
          .checkPermission({ subject: 'usr_dev_admin', resource: 'x', action: 'y' }),
      ).toBe(true);
      h.sandbox.faults.clear();
      const both = h.client({ target: `ipv4:${h.sandbox.address},${second.address}` });
      await both.getUserRoles('usr_dev_admin'); // connects
      for (let i = 0; i < 10; i++) await both.getUserRoles('usr_dev_admin');
      expect(h.sandbox.faults.count('GetUserRoles')).toBeGreaterThan(0);
      expect(second.faults.count('GetUserRoles')).toBeGreaterThan(0);
    } finally {
      await second.stop();
    }
  });

  it('opens the target’s breaker after consecutive UNAVAILABLE and then fails fast without calling', async () => {
    const c = h.client({ maxAttempts: 1 });
    h.sandbox.faults.clear();
    h.sandbox.faults.add({ method: 'GetUserRoles', action: 'error', code: status.UNAVAILABLE, count: 5 });
    for (let i = 0; i < 5; i++)
      await expect(c.getUserRoles('usr_dev_admin')).rejects.toMatchObject({
        code: 'USERS_SERVICE_UNAVAILABLE',
      });
    await expect(c.getUserRoles('usr_dev_admin')).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      retryable: true,
    });
    expect(h.sandbox.faults.count('GetUserRoles')).toBe(5);
  });

  it('reports the service healthy over grpc.health.v1', async () => {
    const c = h.client();
    expect((await c.checkHealth()).status).toBe('up');
    h.sandbox.setServing(false);
    expect((await c.checkHealth()).status).toBe('down');
    h.sandbox.setServing(true);
  });
});
