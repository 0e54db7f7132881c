import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/cli/config.js';
import type { App, RouteModule } from '../../src/gateway/types.js';
import { errors } from '../../src/kernel/errors/index.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { allowAll, buildTestGateway, type TestGateway } from '../support/app.js';
import { parsePrometheusText } from '../support/prometheus.js';

const echo: RouteModule = {
  name: 'echo',
  register(app: App) {
    app.post(
      '/echo',
      {
        config: { permission: 'echo:create' },
        schema: {
          summary: 'Echo a widget',
          body: z.object({ amount: z.number().int().positive(), currency: z.string().length(3) }).strict(),
          response: { 201: z.object({ amount: z.number(), currency: z.string() }) },
        },
      },
      async (request, reply) => reply.status(201).send(request.body),
    );
    app.get('/echo/:id', { config: { permission: 'echo:read' } }, async () => ({ ok: true }));
    app.get(
      '/old',
      { config: { permission: 'echo:read', deprecated: { sunset: '2027-06-30' } } },
      async () => ({ ok: true }),
    );
  },
};

describe('gateway shell', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await buildTestGateway({ routes: [echo], authenticator: allowAll });
  });
  afterAll(() => gw.close());

  it('answers liveness and lists the store in readiness', async () => {
    gw.deps.health.register({
      name: 'store',
      required: true,
      target: 'pglite:memory',
      check: () => ({ status: 'up' }),
    });
    const live = await gw.app.inject({ url: '/health/live' });
    expect(live.statusCode).toBe(200);
    const ready = await gw.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.store).toMatchObject({ status: 'up', target: 'pglite:memory' });
    gw.deps.health.unregister('store');
  });

  it('answers readiness from the background report: many calls run no check of their own', async () => {
    let checks = 0;
    gw.deps.health.register({
      name: 'processor',
      required: false,
      target: 'http://127.0.0.1:43210',
      check: () => {
        checks++;
        return { status: 'up', detail: 'sandbox' };
      },
    });
    // One round now; the next one an hour away, so every call below is answered from the first.
    gw.deps.health.startRefreshing({ intervalMs: 3_600_000 });
    try {
      for (let i = 0; i < 200; i++) {
        const ready = await gw.app.inject({ url: '/health/ready' });
        expect(ready.statusCode).toBe(200);
        expect(ready.json().checks.processor).toEqual({
          status: 'up',
          target: 'http://127.0.0.1:43210',
          detail: 'sandbox',
          required: false,
        });
      }
      expect(checks).toBe(1);
    } finally {
      gw.deps.health.stopRefreshing();
      gw.deps.health.unregister('processor');
    }
  });

  it('answers 503 from readiness when a required dependency is down, with its credentials masked', async () => {
    gw.deps.health.register({
      name: 'broker',
      required: true,
      target: 'amqp://guest:secret@127.0.0.1:5672',
      check: () => ({ status: 'down', detail: 'connection refused' }),
    });
    const ready = await gw.app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({
      status: 'down',
      checks: { broker: { status: 'down', target: 'amqp://***@127.0.0.1:5672' } },
    });
    gw.deps.health.unregister('broker');
  });

  it('shows production readiness without targets or details, except to an operator’s token', async () => {
    const base = loadConfig({ env: { CAREBRIDGE_PROFILE: 'test' }, cwd: '/nonexistent' });
    const prod = await buildTestGateway({
      config: { ...base, profile: 'production' },
      authenticator: {
        async authenticate(request) {
          const role = String(request.headers.authorization).replace(/^Bearer /i, '');
          if (role === 'bad') throw new Error('bad token');
          return { subject: `u-${role}`, kind: 'user', roles: [role] };
        },
        authorize: async () => true,
      },
    });
    try {
      prod.deps.health.register({
        name: 'store',
        required: true,
        target: '/srv/carebridge/data',
        check: () => ({ status: 'up', detail: 'pglite at /srv/carebridge/data' }),
      });
      for (const authorization of [undefined, 'Bearer billing', 'Bearer bad']) {
        const res = await prod.app.inject({
          url: '/health/ready',
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode).toBe(200);
        expect(res.json().checks.store, authorization).toEqual({ status: 'up', required: true });
        expect(res.body).not.toContain('/srv/carebridge');
      }
      for (const role of ['admin', 'ops']) {
        const res = await prod.app.inject({
          url: '/health/ready',
          headers: { authorization: `Bearer ${role}` },
        });
        expect(res.json().checks.store).toMatchObject({ target: '/srv/carebridge/data' });
      }
    } finally {
      await prod.close();
    }
  });

  it('answers an unknown /v1 path with a 404 problem', async () => {
    const res = await gw.app.inject({ url: '/v1/does-not-exist' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND', title: 'Not Found' });
    expect(res.json().requestId).toBe(res.headers['x-request-id']);
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const res = await gw.app.inject({ method: 'DELETE', url: '/v1/echo' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json().code).toBe('METHOD_NOT_ALLOWED');
  });

  it('refuses a 2 MB body with 413 problem+json, also on unknown /v1 paths', async () => {
    const big = JSON.stringify({ amount: 1, currency: 'USD', pad: 'x'.repeat(2 * 1024 * 1024) });
    for (const url of ['/v1/echo', '/v1/nowhere']) {
      const res = await gw.app.inject({
        method: 'POST',
        url,
        payload: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.statusCode).toBe(413);
      expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('refuses a body that is not JSON with 415', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: 'amount=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('names the offending field when validation fails', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: { amount: -5, currency: 'USD' },
    });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.field).toBe('body.amount');
    expect(body.detail).toMatch(/^body\.amount: /);
  });

  it('answers malformed JSON with a 400 problem and no parser internals', async () => {
    const res = await gw.app.inject({
      method: 'POST',
      url: '/v1/echo',
      payload: '{"amount":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BAD_REQUEST' });
    expect(res.body).not.toMatch(/at .*\.js|stack/i);
  });

  it('echoes a safe X-Request-Id and replaces an unsafe one', async () => {
    const ok = await gw.app.inject({ url: '/health/live', headers: { 'x-request-id': 'req-123.abc' } });
    expect(ok.headers['x-request-id']).toBe('req-123.abc');
    const bad = await gw.app.inject({
      url: '/health/live',
      headers: { 'x-request-id': 'evil\u0000<script>' },
    });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves the current API-Version, refuses an unknown one and marks deprecated routes', async () => {
    const ok = await gw.app.inject({ url: '/v1/echo/1' });
    expect(ok.headers['api-version']).toBe('2026-11-01');
    const bad = await gw.app.inject({ url: '/v1/echo/1', headers: { 'api-version': '1999-01-01' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('UNSUPPORTED_API_VERSION');
    const old = await gw.app.inject({ url: '/v1/old' });
    expect(old.headers.deprecation).toBe('true');
    expect(old.headers.sunset).toBe('Wed, 30 Jun 2027 00:00:00 GMT');
  });

  it('serves a valid OpenAPI 3.1 document generated from the route schemas', async () => {
    const res = await gw.app.inject({ url: '/openapi.json' });
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const post = doc.paths['/v1/echo'].post;
    expect(post.requestBody.content['application/json'].schema.required).toEqual(['amount', 'currency']);
    expect(post.description).toContain('echo:create');
  });

  it('serves valid Prometheus text with request metrics labelled by route template', async () => {
    await gw.app.inject({ url: '/v1/echo/42' });
    const res = await gw.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const samples = parsePrometheusText(res.body);
    const hit = samples.find(
      (s) =>
        s.name === 'carebridge_http_server_requests_total' &&
        s.labels.route === '/v1/echo/:id' &&
        s.labels.status_class === '2xx',
    );
    expect(hit?.value).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.labels.route?.includes('42'))).toBe(false);
  });

  it('serves the API explorer at /docs', async () => {
    const res = await gw.app.inject({ url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('swagger');
  });
});

describe('framework and parser errors', () => {
  let gw: TestGateway;
  let base: { port: number };
  beforeAll(async () => {
    gw = await buildTestGateway({ routes: [echo], authenticator: allowAll });
    await gw.app.listen({ port: 0, host: '127.0.0.1' });
    base = { port: (gw.app.server.address() as AddressInfo).port };
  });
  afterAll(() => gw.close());

  const expectProblem = (res: { statusCode: number; headers: Record<string, unknown>; body: string }) => {
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(res.body);
    expect(res.headers['x-request-id']).toBe(body.requestId);
    expect(body.code).not.toMatch(/^FST_/);
    return body;
  };

  it('answers a path with invalid percent-encoding with 400 BAD_URL', async () => {
    const res = await gw.app.inject({ url: '/v1/echo/%zz' });
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).code).toBe('BAD_URL');
  });

  it('answers a path parameter over 200 characters with 414 URI_TOO_LONG', async () => {
    const res = await gw.app.inject({ url: `/v1/echo/${'a'.repeat(201)}` });
    expect(res.statusCode).toBe(414);
    expect(expectProblem(res).code).toBe('URI_TOO_LONG');
  });

  it('answers a 17,000-character path with 431 HEADERS_TOO_LARGE, over a real socket', async () => {
    const res = await rawRequest(base.port, `GET /v1/${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res.statusCode).toBe(431);
    expect(expectProblem(res).code).toBe('HEADERS_TOO_LARGE');
  });

  it('answers raw non-ASCII bytes in the path with 400 BAD_URL, over a real socket', async () => {
    const res = await rawRequest(
      base.port,
      Buffer.concat([
        Buffer.from('GET /v1/'),
        Buffer.from([0xff, 0x00]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
    );
    expect(res.statusCode).toBe(400);
    expect(expectProblem(res).code).toBe('BAD_URL');
  });
});

/** Sends bytes as they are (no client normalises them) and parses the one answer. */
async function rawRequest(
  port: number,
  bytes: string | Buffer,
): Promise<{ statusCode: number; headers: Record<string, string>; body: string }> {
  const text = await new Promise<string>((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  const [status = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  return { statusCode: Number(status.split(' ')[1]), headers, body };
}

describe('closed by default', () => {
  it('answers 401 on every /v1 route when no identity provider is configured', async () => {
    const gw = await buildTestGateway({ routes: [echo] });
    try {
      const res = await gw.app.inject({ url: '/v1/echo/1' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json().code).toBe('UNAUTHENTICATED');
    } finally {
      await gw.close();
    }
  });

  it('answers 403 when the authenticator denies the permission', async () => {
    const gw = await buildTestGateway({
      routes: [echo],
      authenticator: {
        authenticate: async () => ({ subject: 'u1', kind: 'user', roles: [] }),
        authorize: async () => false,
      },
    });
    try {
      const res = await gw.app.inject({ url: '/v1/echo/1' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN', permission: 'echo:read' });
    } finally {
      await gw.close();
    }
  });

  it('decides access on the matched route, so an encoded spelling of /v1 is not a way around it', async () => {
    const gw = await buildTestGateway({ routes: [echo] });
    try {
      for (const url of ['/v%31/echo/1', '/%761/echo/1', '/%76%31/echo/1', '/v1/%65cho/1', '/v1/echo/1/']) {
        const res = await gw.app.inject({ url });
        expect(res.statusCode, url).toBe(401);
        expect(res.headers['api-version'], url).toBeDefined();
      }
      const post = await gw.app.inject({
        method: 'POST',
        url: '/v%31/echo',
        payload: { amount: 1, currency: 'USD' },
      });
      expect(post.statusCode).toBe(401);
    } finally {
      await gw.close();
    }
  });

  it('puts the request id on 401 and 403 answers, equal to the body’s requestId', async () => {
    const gw = await buildTestGateway({ routes: [echo] });
    try {
      const res = await gw.app.inject({ url: '/v1/echo/1' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['x-request-id']).toBe(res.json().requestId);
    } finally {
      await gw.close();
    }
  });

  it('refuses to start when a route outside /v1 declares neither a permission nor public', async () => {
    const careless: RouteModule = {
      name: 'careless-hook',
      prefix: '/webhooks',
      register: (app) => void app.post('/thing', async () => ({})),
    };
    await expect(buildTestGateway({ routes: [careless] })).rejects.toThrow(
      /declares neither config.permission nor config.public/,
    );
  });

  it('refuses to start when a /v1 route declares no permission', async () => {
    const careless: RouteModule = {
      name: 'careless',
      register: (app) => void app.get('/open', async () => ({})),
    };
    await expect(buildTestGateway({ routes: [careless] })).rejects.toThrow(
      /declares neither config.permission nor config.public/,
    );
  });
});

describe('the log line of a failed request', () => {
  it('carries the error code, message and cause chain of a 5xx', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _enc, cb) {
          for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
          cb();
        },
      }),
    });
    const failing: RouteModule = {
      name: 'failing',
      register: (app) =>
        void app.get('/failing', { config: { permission: 'echo:read' } }, async () => {
          const upstream = Object.assign(new Error('14 UNAVAILABLE: connection refused'), { code: 14 });
          throw errors.upstreamUnavailable('The widget service is unreachable.', {
            integration: 'widgets',
            cause: upstream,
          });
        }),
    };
    const gw = await buildTestGateway({ routes: [failing], authenticator: allowAll, logger });
    try {
      expect((await gw.app.inject({ url: '/v1/failing' })).statusCode).toBe(503);
      const line = lines.find((l) => l.msg === 'request failed');
      expect(line).toMatchObject({
        code: 'UPSTREAM_UNAVAILABLE',
        integration: 'widgets',
        err: {
          code: 'UPSTREAM_UNAVAILABLE',
          message: 'The widget service is unreachable.',
          cause: { code: 14, message: '14 UNAVAILABLE: connection refused' },
        },
      });
    } finally {
      await gw.close();
    }
  });
});
