import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaultServer } from '../../../test/support/fault-server.js';
import { createPipeline, type PipelineEvent, type PipelineOptions } from '../resilience/index.js';
import { Metrics } from '../telemetry/index.js';
import { createLogger } from '../telemetry/logger.js';
import { upstreamStatusError } from './errors.js';
import { HttpClient } from './http-client.js';
import { traceIdOf } from './trace-context.js';
import type { SignableRequest } from './types.js';

const logger = createLogger({ level: 'silent' });
let server: FaultServer;
let client: HttpClient;
let metrics: Metrics;

beforeAll(async () => {
  server = await FaultServer.start();
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  server.reset();
  await client?.close();
  vi.useRealTimers();
});

function makeClient(extra: Partial<ConstructorParameters<typeof HttpClient>[0]> = {}) {
  metrics = new Metrics({ defaultMetrics: false });
  client = new HttpClient({ baseUrl: server.url, integration: 'acme', metrics, logger, ...extra });
  return client;
}

function makePipeline(extra: Partial<PipelineOptions> = {}) {
  const p = createPipeline({
    integration: 'acme',
    operation: 'getThing',
    metrics,
    logger,
    retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
    attemptTimeoutMs: 2_000,
    totalTimeoutMs: 10_000,
    breaker: false,
    ...extra,
  });
  const events: PipelineEvent[] = [];
  p.onEvent((e) => events.push(e));
  return { p, events };
}

/** What an integration writes: one attempt = one request; transient statuses become retryable errors. */
const getThing =
  (c: HttpClient) =>
  async ({ signal }: { signal: AbortSignal }) => {
    const res = await c.request<{ ok: boolean }>({
      method: 'GET',
      path: '/things/1',
      operation: 'getThing',
      signal,
    });
    const err = upstreamStatusError(res, 'acme');
    if (err) throw err;
    return res.body;
  };

describe('HttpClient', () => {
  it('sends JSON with query, idempotency key and a per-attempt traceparent, and returns any status', async () => {
    const c = makeClient({ userAgent: 'carebridge-test/1' });
    server.script({ status: 201, body: { id: 'x1' } }, { status: 422, body: { error: 'nope' } });
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const a = await c.request({
      method: 'POST',
      path: '/things',
      query: { expand: 'all', skip: undefined },
      json: { name: 'widget' },
      idempotencyKey: 'idem-1',
      operation: 'createThing',
      traceparent: incoming,
    });
    expect(a).toMatchObject({ status: 201, body: { id: 'x1' } });
    const b = await c.request({
      method: 'POST',
      path: 'things',
      json: {},
      operation: 'createThing',
      traceparent: incoming,
    });
    expect(b.status).toBe(422);
    expect(b.body).toEqual({ error: 'nope' });
    const [r1, r2] = server.requests;
    expect(r1).toMatchObject({ method: 'POST', url: '/things?expand=all', body: '{"name":"widget"}' });
    expect(r1?.headers).toMatchObject({
      'idempotency-key': 'idem-1',
      'content-type': 'application/json',
      'user-agent': 'carebridge-test/1',
    });
    const t1 = r1?.headers.traceparent as string;
    const t2 = r2?.headers.traceparent as string;
    expect(traceIdOf(t1)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(t2)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(t1).not.toBe(t2);
    expect(t1).not.toContain('00f067aa0ba902b7');
    const text = await metrics.text();
    expect(text).toMatch(
      /carebridge_http_client_request_duration_seconds_count\{integration="acme",operation="createThing",outcome="2xx"\} 1/,
    );
    expect(text).toMatch(
      /carebridge_http_client_requests_total\{integration="acme",operation="createThing",outcome="4xx"\} 1/,
    );
  });

  it('signs every attempt and re-signs once after a 401 when the signer can refresh', async () => {
    let n = 0;
    const signer = {
      sign(req: SignableRequest) {
        req.headers.authorization = `Bearer t${++n}`;
      },
      refreshOnUnauthorized: async () => true,
    };
    const c = makeClient({ signer });
    server.script({ status: 401 }, { status: 200, body: { ok: true } }, { status: 401 }, { status: 401 });
    expect((await c.request({ method: 'GET', path: '/a', operation: 'a' })).status).toBe(200);
    expect((await c.request({ method: 'GET', path: '/a', operation: 'a' })).status).toBe(401);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer t1',
      'Bearer t2',
      'Bearer t3',
      'Bearer t4',
    ]);
  });

  it('turns a signer that throws into a rejected request that is never sent', async () => {
    const c = makeClient({
      signer: {
        sign() {
          throw new Error('no key loaded');
        },
      },
    });
    const pending = c.request({ method: 'GET', path: '/a', operation: 'a' });
    await expect(pending).rejects.toThrow('no key loaded');
    expect(server.requests).toHaveLength(0);
  });

  it('maps transport failures: refused, reset, truncated body, aborted', async () => {
    const c = makeClient();
    const dead = await FaultServer.start();
    const deadUrl = dead.url;
    await dead.close();
    await expect(c.request({ method: 'GET', path: `${deadUrl}/x`, operation: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      details: { notSent: true },
    });
    server.script({ action: 'reset' });
    await expect(c.request({ method: 'POST', path: '/x', json: {}, operation: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_CONNECTION_RESET',
    });
    server.script({ action: 'truncate', body: { big: 'y'.repeat(200) } });
    await expect(c.request({ method: 'GET', path: '/x', operation: 'x' })).rejects.toMatchObject({
      code: 'UPSTREAM_CONNECTION_RESET',
    });
    server.script({ action: 'hang' });
    const ctrl = new AbortController();
    const pending = c.request({ method: 'GET', path: '/x', operation: 'x', signal: ctrl.signal });
    await vi.waitFor(() => expect(server.requests).toHaveLength(3));
    // Any abort reason (not only an AbortError) means the caller stopped waiting.
    ctrl.abort('caller went away');
    await expect(pending).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
  });

  it('refuses an answer larger than maxResponseBytes and keeps working afterwards', async () => {
    const c = makeClient({ maxResponseBytes: 1_000 });
    server.script({ body: { big: 'z'.repeat(5_000) } }, { body: { small: true } });
    await expect(c.request({ method: 'GET', path: '/big', operation: 'big' })).rejects.toMatchObject({
      code: 'UPSTREAM_RESPONSE_TOO_LARGE',
      retryable: false,
      details: { limitBytes: 1_000 },
    });
    expect((await c.request({ method: 'GET', path: '/small', operation: 'small' })).body).toEqual({
      small: true,
    });
    expect(await metrics.text()).toMatch(
      /carebridge_http_client_requests_total\{integration="acme",operation="big",outcome="UPSTREAM_RESPONSE_TOO_LARGE"\} 1/,
    );
  });

  it('answers an abort at once even while the request waits for a free connection', async () => {
    const c = makeClient({ connections: 1 });
    server.script({ action: 'respond', delayMs: 400, body: { first: true } }, { body: { third: true } });
    let firstDone = false;
    const first = c.request({ method: 'GET', path: '/slow', operation: 'x' }).finally(() => {
      firstDone = true;
    });
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    const ctrl = new AbortController();
    const queued = c.request({ method: 'GET', path: '/queued', operation: 'x', signal: ctrl.signal });
    ctrl.abort();
    await expect(queued).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    // Rejected before the slow request freed the only connection.
    expect(firstDone).toBe(false);
    expect((await first).body).toEqual({ first: true });
    expect((await c.request({ method: 'GET', path: '/third', operation: 'x' })).body).toEqual({
      third: true,
    });
    // The aborted request never reached the server.
    expect(server.requests.map((r) => r.url)).toEqual(['/slow', '/third']);
  });
});

describe('HttpClient through the resilience pipeline', () => {
  it('retries 5xx answers and returns the success', async () => {
    const c = makeClient();
    const { p } = makePipeline();
    server.script({ status: 503, times: 2 }, { status: 200, body: { ok: true } });
    await expect(p.execute(getThing(c), { idempotent: true })).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(3);
  });

  it('waits the 2 s a 429 Retry-After asks for, then retries once', async () => {
    const c = makeClient();
    const { p, events } = makePipeline();
    server.script({ status: 429, retryAfter: 2 }, { status: 200, body: { ok: true } });
    await expect(p.execute(getThing(c), { idempotent: true })).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    expect(events.filter((e) => e.type === 'retry')).toEqual([
      { type: 'retry', attempt: 1, delayMs: 2_000, reason: 'retry-after', code: 'RATE_LIMITED' },
    ]);
  });

  it('cuts a hanging attempt with the attempt timeout; retries it only when idempotent', async () => {
    const c = makeClient();
    const { p } = makePipeline({ attemptTimeoutMs: 200 });
    server.script({ action: 'hang' }, { status: 200, body: { ok: true } });
    await expect(p.execute(getThing(c), { idempotent: true })).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
    server.reset();
    server.script({ action: 'hang' });
    const write = async ({ signal }: { signal: AbortSignal }) =>
      (
        await c.request({
          method: 'POST',
          path: '/charges',
          json: { amount: 100 },
          operation: 'charge',
          signal,
        })
      ).body;
    await expect(p.execute(write)).rejects.toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
    expect(server.requests).toHaveLength(1);
  });

  it('opens the breaker on a failing upstream, stops calling it, and closes after a good probe', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const c = makeClient();
    const { p, events } = makePipeline({
      retry: false,
      breaker: { kind: 'consecutive', threshold: 3, halfOpenAfterMs: 30_000 },
    });
    server.otherwise({ status: 500 });
    for (let i = 0; i < 3; i++)
      await expect(p.execute(getThing(c), { idempotent: true })).rejects.toMatchObject({
        code: 'UPSTREAM_ERROR',
      });
    expect(p.breakerState).toBe('open');
    for (let i = 0; i < 5; i++)
      await expect(p.execute(getThing(c), { idempotent: true })).rejects.toMatchObject({
        code: 'CIRCUIT_OPEN',
      });
    expect(server.requests).toHaveLength(3);

    server.otherwise({ status: 200, body: { ok: true } });
    vi.setSystemTime(Date.now() + 30_000);
    await expect(p.execute(getThing(c), { idempotent: true })).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(4);
    expect(p.breakerState).toBe('closed');
    expect(events.filter((e) => e.type === 'breaker').map((e) => (e as { state: string }).state)).toEqual([
      'open',
      'half-open',
      'closed',
    ]);
  });
});
