import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/cli/runtime.js';
import { startTestRuntime, tokenFor } from '../support/runtime.js';

/**
 * Every operation of the OpenAPI document, requested with every other spelling of its path that a router
 * or a proxy might treat as the same (percent-encoded letters and digits, doubled slashes, dot segments, a
 * trailing slash, other case): without a token the answer is 401 or 404, never 2xx; with a role that lacks
 * the permission, 403 or 404. Regression for `/v%31/payments` answering 201 as "anonymous".
 */
describe('encoded spellings of every documented path', () => {
  let rt: Runtime;
  let noRolesToken: string;

  beforeAll(async () => {
    rt = await startTestRuntime();
    noRolesToken = await tokenFor(rt, 'noroles');
  });
  afterAll(() => rt?.stop());

  /** Operations of the document that need a bearer token (those with `security`). */
  async function protectedOperations(): Promise<Array<{ method: string; path: string }>> {
    const doc = (await rt.app.inject({ url: '/openapi.json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    const ops: Array<{ method: string; path: string }> = [];
    for (const [template, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (op.security)
          ops.push({ method: method.toUpperCase(), path: template.replace(/\{[^}]+\}/g, 'x1') });
      }
    }
    return ops;
  }

  /** Spellings of `path` that are not the canonical one. */
  function spellings(path: string): string[] {
    const segs = path.split('/').slice(1); // ['v1', 'payments', ...]
    const pct = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
    const out = new Set<string>([
      path.replace('/v1', '/v%31'),
      path.replace('/v1', '/%761'),
      path.replace('/v1', '/%76%31'),
      path.replace('/v1', '/%56%31'),
      path.replace('/v1', '/V1'),
      path.toUpperCase(),
      `/${segs.map((s) => s.replace(/^./, (c) => pct(c))).join('/')}`,
      `/${segs.map((s) => s.replace(/^./, (c) => pct(c).toUpperCase())).join('/')}`,
      `/${segs.map((s) => [...s].map(pct).join('')).join('/')}`,
      `/${path}`,
      path.replace('/v1/', '/v1//'),
      `/.${path}`,
      path.replace('/v1/', '/v1/./'),
      path.replace('/v1/', '/x/../v1/'),
      `${path}/`,
      `${path}%2F`,
      path.replace('/v1/', '/v1%2F'),
      `${path}?`,
      `${path}#frag`,
      `${path};x=1`,
    ]);
    out.delete(path);
    return [...out];
  }

  const send = (method: string, url: string, authorization?: string) =>
    rt.app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(method === 'GET' || method === 'DELETE'
          ? {}
          : { 'idempotency-key': `enc-${Math.random()}`, 'content-type': 'application/json' }),
      },
      ...(method === 'GET' || method === 'DELETE' ? {} : { payload: '{}' }),
    });

  it('finds the protected operations in the document', async () => {
    const ops = await protectedOperations();
    expect(ops.length).toBeGreaterThanOrEqual(10);
    expect(ops).toContainEqual({ method: 'POST', path: '/v1/payments' });
  });

  it('never answers 2xx without a token, and answers 401 where the spelling routes', async () => {
    const bad: string[] = [];
    let routed = 0;
    for (const op of await protectedOperations()) {
      for (const url of spellings(op.path)) {
        const res = await send(op.method, url);
        if (res.statusCode === 401) routed++;
        if (![401, 404, 405].includes(res.statusCode)) bad.push(`${op.method} ${url} → ${res.statusCode}`);
        else if (res.headers['x-request-id'] !== res.json().requestId)
          bad.push(`${op.method} ${url}: request id`);
      }
    }
    expect(bad).toEqual([]);
    // The percent-encoded spellings reach the route (the router decodes them): they must meet authentication.
    expect(routed).toBeGreaterThan(0);
  });

  it('answers 403 or 404 to a caller whose role lacks the permission, whatever the spelling', async () => {
    const bad: string[] = [];
    for (const op of await protectedOperations()) {
      for (const url of [op.path, ...spellings(op.path)]) {
        const res = await send(op.method, url, `Bearer ${noRolesToken}`);
        if (![403, 404, 405].includes(res.statusCode)) bad.push(`${op.method} ${url} → ${res.statusCode}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
