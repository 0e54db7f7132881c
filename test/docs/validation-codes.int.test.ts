import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/cli/runtime.js';
import { startTestRuntime, tokenFor } from '../support/runtime.js';

/**
 * docs/errors.md, "Which code a refused request gets": every route of the app as `createRuntime` builds it
 * answers a request its schema refuses with the code that table gives its path, naming the field. The routes
 * come from the app's own table, so a new route cannot be left out.
 */
const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** The table's rows: each path pattern (`/v1/payments*`) → its code; `every other route` → the default. */
function documentedCodes(): { byPrefix: Array<[string, string]>; otherwise: string } {
  const section = doc.slice(doc.indexOf('## Which code a refused request gets'));
  const rows = [...section.matchAll(/^\| (.+) \| `([A-Z_]+)` \|$/gm)];
  const byPrefix: Array<[string, string]> = [];
  let otherwise = '';
  for (const [, routes, code] of rows) {
    if (routes!.startsWith('every other route')) otherwise = code!;
    else for (const m of routes!.matchAll(/`([^`*]+)\*`/g)) byPrefix.push([m[1]!, code!]);
  }
  return { byPrefix, otherwise };
}

function codeFor(url: string): string {
  const { byPrefix, otherwise } = documentedCodes();
  return byPrefix.find(([prefix]) => url.startsWith(prefix))?.[1] ?? otherwise;
}

describe('validation codes: every route answers the documented code', () => {
  let rt: Runtime;
  let token: string;

  beforeAll(async () => {
    rt = await startTestRuntime();
    token = await tokenFor(rt, 'admin');
  });
  afterAll(() => rt?.stop());

  const routes = () => rt.app.permissionTable.filter((r) => r.method !== 'OPTIONS' && r.method !== 'HEAD');
  const send = (method: string, url: string, body?: string) =>
    rt.app.inject({
      method: method as 'GET',
      url,
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': `codes-${Math.random()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { payload: body }),
    });

  it('reads the table: payments, notifications and a default', () => {
    expect(documentedCodes()).toEqual({
      byPrefix: [
        ['/v1/payments', 'PAYMENTS_INVALID_REQUEST'],
        ['/v1/subscriptions', 'PAYMENTS_INVALID_REQUEST'],
        ['/v1/notifications', 'NOTIFICATIONS_INVALID_MESSAGE'],
      ],
      otherwise: 'VALIDATION_FAILED',
    });
    expect(routes().length).toBeGreaterThanOrEqual(12);
  });

  it('a malformed path id: 400 with the route’s code, naming params.<name>', async () => {
    const wrong: string[] = [];
    for (const route of routes().filter((r) => r.url.includes(':'))) {
      const name = /:([A-Za-z]+)/.exec(route.url)![1]!;
      const res = await send(route.method, route.url.replace(/:[A-Za-z]+/g, 'x%00'), '{}');
      const got = `${res.statusCode} ${res.json().code} ${res.json().field}`;
      const want = `400 ${codeFor(route.url)} params.${name}`;
      if (got !== want) wrong.push(`${route.method} ${route.url}: ${got}, want ${want}`);
    }
    expect(wrong).toEqual([]);
  });

  it('an unknown body field: 400 with the route’s code, listing that field by name', async () => {
    const wrong: string[] = [];
    for (const route of routes().filter((r) => r.method === 'POST' && !r.url.includes(':'))) {
      const res = await send(route.method, route.url, JSON.stringify({ colour: 'red' }));
      const fields = (res.json().errors ?? []) as Array<{ field: string; message: string }>;
      const got = `${res.statusCode} ${res.json().code} ${fields.some((f) => f.field === 'body.colour')}`;
      const want = `400 ${codeFor(route.url)} true`;
      if (got !== want) wrong.push(`${route.method} ${route.url}: ${got}, want ${want}`);
    }
    expect(wrong).toEqual([]);
    const payment = { amount: 1250, currency: 'USD', customerId: 'cus_1', paymentMethod: 'pm_card_visa' };
    const only = await send('POST', '/v1/payments', JSON.stringify({ ...payment, colour: 'red' }));
    expect(only.json()).toMatchObject({
      code: 'PAYMENTS_INVALID_REQUEST',
      field: 'body.colour',
      detail: 'body.colour: unknown field',
    });
  });

  it('a query parameter out of its rule: 400 with the route’s code, naming querystring.<name>', async () => {
    const res = await send('GET', '/v1/payments?limit=0');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: codeFor('/v1/payments'), field: 'querystring.limit' });
  });

  it('a null, non-object or missing body names `body` and says what it got', async () => {
    for (const url of ['/v1/payments', '/v1/notifications/sms', '/v1/permissions/check']) {
      for (const [payload, got] of [
        ['null', 'null'],
        ['[]', 'an array'],
        ['"text"', 'a string'],
      ] as const) {
        const res = await send('POST', url, payload);
        expect(res.statusCode, `${url} ${payload}`).toBe(400);
        expect(res.json(), `${url} ${payload}`).toMatchObject({
          code: codeFor(url),
          field: 'body',
          detail: `body: expected a JSON object, got ${got}`,
        });
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      const none = await send('POST', url);
      expect(none.json(), url).toMatchObject({
        field: 'body',
        detail: 'body: expected a JSON object, got none',
      });
    }
  });

  it('names the field inside a batch and lists every offending field', async () => {
    const res = await send(
      'POST',
      '/v1/notifications/sms',
      JSON.stringify({
        items: [
          { to: '+15005550006', text: 'ok' },
          { to: 'nope', text: 'x', extra: 1 },
        ],
      }),
    );
    expect(res.json()).toMatchObject({ code: 'NOTIFICATIONS_INVALID_MESSAGE', field: 'body.items.1.to' });
    expect(res.json().errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'body.items.1.to' }),
        expect.objectContaining({ field: 'body.items.1.extra', message: 'unknown field' }),
      ]),
    );
  });

  it('states the enforced payment-method rule in the OpenAPI document', async () => {
    const openapi = (await rt.app.inject({ url: '/openapi.json' })).json();
    const body = (path: string) =>
      openapi.paths[path].post.requestBody.content['application/json'].schema.properties.paymentMethod;
    for (const path of ['/v1/payments', '/v1/subscriptions'])
      expect(body(path), path).toMatchObject({ type: 'string', pattern: '^pm_[A-Za-z0-9_]{1,100}$' });
  });
});
