import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withIdempotency } from '../../src/gateway/plugins/idempotency.js';
import type { RouteModule } from '../../src/gateway/types.js';
import { errors } from '../../src/kernel/errors/index.js';
import { allowAll, buildTestGateway, type TestGateway } from '../support/app.js';
import { dropTestSchemas, type StoreFactory, storeFactories, withStore } from '../support/stores.js';

afterAll(dropTestSchemas);

/** A creating route whose side effects are counted; `gate` holds the handler open while the test looks. */
function widgetRoutes() {
  const state = { created: 0, gate: Promise.resolve() as Promise<void>, keys: [] as string[] };
  const mod: RouteModule = {
    name: 'widgets',
    register(app, deps) {
      app.post(
        '/widgets',
        {
          config: { permission: 'widgets:create' },
          schema: {
            body: z.object({
              size: z.number(),
              decline: z.boolean().optional(),
              flaky: z.boolean().optional(),
            }),
          },
        },
        async (request, reply) =>
          withIdempotency(deps, request, reply, 'widgets', async (ctx) => {
            state.keys.push(ctx.key);
            await state.gate;
            if (request.body.decline) throw errors.conflict('Widget declined.');
            if (request.body.flaky && state.keys.length === 1)
              throw errors.upstreamTimeout('Provider did not answer.');
            state.created += 1;
            return {
              status: 201,
              body: { id: `wid_${state.created}`, size: request.body.size },
              headers: { location: '/v1/widgets/x' },
            };
          }),
      );
    },
  };
  return { state, mod };
}

/** The widget routes on a gateway over a fresh store from `factory`; gateway and store are closed afterwards. */
function withWidgetGateway(
  factory: StoreFactory,
  fn: (t: { gw: TestGateway; state: ReturnType<typeof widgetRoutes>['state'] }) => Promise<void>,
): Promise<void> {
  const { state, mod } = widgetRoutes();
  return withStore(factory, async (store) => {
    const gw = await buildTestGateway({ routes: [mod], authenticator: allowAll, store });
    try {
      await fn({ gw, state });
    } finally {
      await gw.close();
    }
  });
}

describe.each(storeFactories)('Idempotency-Key on gateway POSTs ($name)', (factory) => {
  it('runs two concurrent POSTs with one key once: 201 and 409, then replays', () =>
    withWidgetGateway(factory, async ({ gw, state }) => {
      let open!: () => void;
      state.gate = new Promise((r) => {
        open = r;
      });
      const post = (size = 1) =>
        gw.app.inject({
          method: 'POST',
          url: '/v1/widgets',
          headers: { 'idempotency-key': 'key-1' },
          payload: { size },
        });
      const first = post();
      await expect.poll(() => state.keys.length).toBe(1);
      const second = await post();
      expect(second.statusCode).toBe(409);
      expect(second.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_IN_FLIGHT' });
      expect(second.headers['retry-after']).toBe('1');
      open();
      const firstRes = await first;
      expect(firstRes.statusCode).toBe(201);
      expect(firstRes.headers['idempotent-replayed']).toBeUndefined();

      const replay = await post();
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.headers.location).toBe('/v1/widgets/x');
      expect(replay.json()).toEqual(firstRes.json());

      const reused = await post(2);
      expect(reused.statusCode).toBe(422);
      expect(reused.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      expect(state.created).toBe(1);
    }));

  it('produces one side effect when many identical requests race', () =>
    withWidgetGateway(factory, async ({ gw, state }) => {
      const results = await Promise.all(
        Array.from({ length: 8 }, () =>
          gw.app.inject({
            method: 'POST',
            url: '/v1/widgets',
            headers: { 'idempotency-key': 'race' },
            payload: { size: 3 },
          }),
        ),
      );
      expect(state.created).toBe(1);
      const codes = results.map((r) => r.statusCode).sort();
      expect(codes.filter((c) => c === 201).length).toBeGreaterThanOrEqual(1);
      expect(codes.every((c) => c === 201 || c === 409)).toBe(true);
      const created = results.filter(
        (r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined,
      );
      expect(created).toHaveLength(1);
    }));

  it('requires a well-formed key and replays a final failure instead of running again', () =>
    withWidgetGateway(factory, async ({ gw, state }) => {
      const none = await gw.app.inject({ method: 'POST', url: '/v1/widgets', payload: { size: 1 } });
      expect(none.json()).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_REQUIRED' });
      const bad = await gw.app.inject({
        method: 'POST',
        url: '/v1/widgets',
        headers: { 'idempotency-key': 'a b' },
        payload: { size: 1 },
      });
      expect(bad.json()).toMatchObject({ status: 400, code: 'IDEMPOTENCY_KEY_INVALID' });

      const send = () =>
        gw.app.inject({
          method: 'POST',
          url: '/v1/widgets',
          headers: { 'idempotency-key': 'd1' },
          payload: { size: 1, decline: true },
        });
      const a = await send();
      const b = await send();
      expect(a.statusCode).toBe(409);
      expect(a.headers['content-type']).toContain('application/problem+json');
      expect(b.statusCode).toBe(409);
      expect(b.headers['idempotent-replayed']).toBe('true');
      expect(b.json()).toMatchObject({ code: 'CONFLICT' });
      expect(state.keys).toHaveLength(1);
    }));

  it('releases the key after a retryable failure so the client can retry with it', () =>
    withWidgetGateway(factory, async ({ gw, state }) => {
      const send = () =>
        gw.app.inject({
          method: 'POST',
          url: '/v1/widgets',
          headers: { 'idempotency-key': 'f1' },
          payload: { size: 1, flaky: true },
        });
      const a = await send();
      expect(a.statusCode).toBe(504);
      expect(a.json()).toMatchObject({ code: 'UPSTREAM_TIMEOUT' });
      const b = await send();
      expect(b.statusCode).toBe(201);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      const c = await send();
      expect(c.headers['idempotent-replayed']).toBe('true');
      expect(state.created).toBe(1);
      expect(state.keys).toHaveLength(2);
    }));
});
