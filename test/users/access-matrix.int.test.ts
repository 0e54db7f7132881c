import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { DEVELOPMENT_USERS, grantsCover, SEEDED_ROLES } from '../../src/sandbox/users/index.js';

/**
 * Every /v1 route of the app as `createRuntime` builds it for the test profile (every component registered
 * right now) × every seeded role: 403 exactly when the role lacks the route's permission, and 401 without a
 * token. The routes come from the app's own permission table, so a new route cannot be left out.
 */
describe('access matrix: every /v1 route × every seeded role', () => {
  let rt: Runtime;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    const config = loadConfig({
      env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://' },
      cwd: '/nonexistent',
    });
    rt = await createRuntime({ config, logger: createLogger({ level: 'silent' }), components: COMPONENTS });
    for (const u of DEVELOPMENT_USERS) {
      const res = await rt.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { username: u.username, password: config.devAdminPassword },
      });
      expect(res.statusCode, u.username).toBe(200);
      tokens.set(u.username, res.json().access_token);
    }
  });
  afterAll(() => rt?.stop());

  const routes = () => rt.app.permissionTable.filter((r) => r.method !== 'OPTIONS');
  const protectedRoutes = () => routes().filter((r) => r.permission !== null);
  const inject = (route: { method: string; url: string }, authorization?: string) =>
    rt.app.inject({
      method: route.method as 'GET',
      url: route.url.replace(/:([A-Za-z]+)/g, 'usr_dev_admin'),
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(route.method === 'GET' || route.method === 'DELETE'
          ? {}
          : { 'idempotency-key': `matrix-${Math.random()}`, 'content-type': 'application/json' }),
      },
      ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { payload: '{}' }),
    });

  it('finds the routes in the app, with POST /v1/auth/token the only public one', () => {
    expect(protectedRoutes().length).toBeGreaterThanOrEqual(2);
    expect(routes().filter((r) => r.permission === null)).toEqual([
      { method: 'POST', url: '/v1/auth/token', permission: null },
    ]);
    expect(protectedRoutes()).toEqual(
      expect.arrayContaining([
        { method: 'GET', url: '/v1/users/:id/roles', permission: 'roles:read' },
        { method: 'POST', url: '/v1/permissions/check', permission: 'permissions:check' },
      ]),
    );
  });

  it('answers 401 problem+json on every protected route without a token, and with a garbage token', async () => {
    for (const route of protectedRoutes()) {
      for (const auth of [undefined, 'Bearer not.a.token']) {
        const res = await inject(route, auth);
        expect(res.statusCode, `${route.method} ${route.url} (${auth ?? 'no token'})`).toBe(401);
        expect(res.headers['content-type']).toMatch(/problem\+json/);
      }
    }
  });

  it('answers 403 exactly when the role lacks the route’s permission', async () => {
    const mismatches: string[] = [];
    for (const user of DEVELOPMENT_USERS) {
      const grants = user.roles.flatMap((r) => SEEDED_ROLES.find((s) => s.name === r)!.permissions);
      for (const route of protectedRoutes()) {
        const [resource, action] = route.permission!.split(':') as [string, string];
        const allowed = grantsCover(grants, resource, action);
        const res = await inject(route, `Bearer ${tokens.get(user.username)}`);
        const ok = allowed
          ? res.statusCode !== 403 && res.statusCode !== 401
          : res.statusCode === 403 && res.json().code === 'FORBIDDEN';
        if (!ok)
          mismatches.push(
            `${user.username} ${route.method} ${route.url} (${route.permission}): expected ${allowed ? 'not 401/403' : '403'}, got ${res.statusCode}`,
          );
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('gives admin every route and the user without roles none', () => {
    const admin = SEEDED_ROLES.find((r) => r.name === 'admin')!.permissions;
    for (const route of protectedRoutes()) {
      const [resource, action] = route.permission!.split(':') as [string, string];
      expect(grantsCover(admin, resource, action)).toBe(true);
    }
    expect(DEVELOPMENT_USERS.find((u) => u.username === 'noroles')!.roles).toEqual([]);
  });

  it('declares the Idempotency-Key header on every creating route in the OpenAPI document', async () => {
    const doc = (await rt.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { parameters?: Array<{ in: string; name: string }> }>>;
    };
    const creating = [
      '/v1/payments',
      '/v1/payments/{id}/refunds',
      '/v1/subscriptions',
      '/v1/notifications/email',
      '/v1/notifications/sms',
      '/v1/notifications/push',
    ];
    for (const path of creating) {
      const params = doc.paths[path]?.post?.parameters ?? [];
      expect(params, path).toContainEqual(expect.objectContaining({ in: 'header', name: 'idempotency-key' }));
    }
  });

  it('shows each route’s permission and the 401/403/429 (and 413/415 with a body) answers in the OpenAPI document', async () => {
    const doc = (await rt.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { description?: string; security?: unknown }>>;
    };
    for (const route of protectedRoutes()) {
      const op = doc.paths[route.url.replace(/:([A-Za-z]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      if (!op) continue; // a route hidden from the document
      expect(op.description, `${route.method} ${route.url}`).toContain(
        `Requires permission \`${route.permission}\``,
      );
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      const statuses = Object.keys((op as { responses?: object }).responses ?? {});
      expect(statuses, `${route.method} ${route.url}`).toEqual(expect.arrayContaining(['401', '403', '429']));
      if (route.method === 'POST')
        expect(statuses, `${route.method} ${route.url}`).toEqual(expect.arrayContaining(['413', '415']));
    }
  });
});
