import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { firstIssue } from '../../kernel/errors/index.js';
import { MAX_IDEMPOTENCY_KEY_LENGTH, type SandboxIdempotency } from '../common/index.js';
import { ApiError, notFound } from './api-error.js';
import type { BillingEngine } from './billing.js';
import type { PaymentsEngine } from './engine.js';
import { newId, type Price, paginate } from './model.js';

const metadata = z.record(z.string().max(40), z.string().max(500)).optional();
const currency = z.string().regex(/^[A-Za-z]{3}$/, 'expected an ISO 4217 code');
const chargeBody = z
  .object({
    amount: z.number().int().min(50).max(99_999_999),
    currency,
    customer: z.string().min(1).max(255).optional(),
    payment_method: z.string().min(1).max(255),
    description: z.string().max(1000).optional(),
    metadata,
    receipt_email: z.string().email().optional(),
  })
  .strict();
const refundBody = z
  .object({
    charge: z.string().min(1),
    amount: z.number().int().min(1).optional(),
    reason: z.enum(['duplicate', 'fraudulent', 'requested_by_customer']).optional(),
    metadata,
  })
  .strict();
const priceBody = z
  .object({
    unit_amount: z.number().int().min(0),
    currency,
    nickname: z.string().max(100).optional(),
    recurring: z
      .object({
        interval: z.enum(['day', 'week', 'month', 'year']),
        interval_count: z.number().int().min(1).max(36).default(1),
      })
      .strict(),
  })
  .strict();
const subscriptionBody = z
  .object({
    customer: z.string().min(1).max(255),
    price: z.string().min(1),
    payment_method: z.string().min(1),
    trial_period_days: z.number().int().min(0).max(730).optional(),
    metadata,
  })
  .strict();
const subscriptionUpdate = z
  .object({
    payment_method: z.string().min(1).optional(),
    cancel_at_period_end: z.boolean().optional(),
    metadata,
  })
  .strict();

function listQuery(q: Record<string, string>) {
  return {
    limit: q.limit !== undefined ? Number(q.limit) : undefined,
    starting_after: q.starting_after,
    ending_before: q.ending_before,
  };
}

function metadataFilter(q: Record<string, string>): Array<[string, string]> {
  return Object.entries(q)
    .filter(([k]) => /^metadata\[[^\]]+\]$/.test(k))
    .map(([k, v]) => [k.slice(9, -1), v]);
}

function send(reply: FastifyReply, err: unknown) {
  if (err instanceof ApiError) return reply.code(err.status).send(err.toBody());
  throw err;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = firstIssue(r.error, 'body');
    throw new ApiError(400, 'invalid_request_error', 'parameter_invalid', issue.summary, {
      param: r.error.issues[0]?.path.join('.'),
    });
  }
  return r.data;
}

export interface RouteDeps {
  engine: PaymentsEngine;
  billing: BillingEngine;
  idempotency: SandboxIdempotency;
}

/**
 * A POST with Stripe idempotency: validation errors are answered without storing; once execution began,
 * the answer (2xx, business 4xx, 5xx) is stored under (api key, method, path, key) and replayed.
 */
async function idempotentPost<T>(
  deps: RouteDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  schema: z.ZodType<T>,
  exec: (params: T) => Promise<unknown> | unknown,
) {
  let params: T;
  try {
    params = parse(schema, req.body);
  } catch (err) {
    return send(reply, err);
  }
  const key = req.headers['idempotency-key'];
  if (typeof key === 'string' && key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return send(
      reply,
      new ApiError(
        400,
        'invalid_request_error',
        'idempotency_key_too_long',
        'Idempotency-Key is longer than 255 characters.',
      ),
    );
  }
  const scope = `${(req as { apiKey?: string }).apiKey ?? ''} ${req.method} ${req.url.split('?')[0]}`;
  const begun = typeof key === 'string' && key ? deps.idempotency.begin(scope, key, params) : undefined;
  if (begun?.kind === 'mismatch') {
    return send(
      reply,
      new ApiError(
        400,
        'idempotency_error',
        'idempotency_key_reused',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      ),
    );
  }
  if (begun?.kind === 'in_flight') {
    reply.header('X-Should-Retry', 'true');
    return send(
      reply,
      new ApiError(
        409,
        'invalid_request_error',
        'idempotency_key_in_use',
        'A request with this Idempotency-Key is still being processed.',
      ),
    );
  }
  if (begun?.kind === 'replay') {
    return reply
      .code(begun.answer.status)
      .header('Idempotent-Replayed', 'true')
      .header('Original-Request', begun.answer.requestId)
      .send(begun.answer.body);
  }
  let status = 200;
  let body: unknown;
  try {
    body = await exec(params);
  } catch (err) {
    if (!(err instanceof ApiError)) {
      begun?.abandon();
      throw err;
    }
    if (!err.storable) {
      begun?.abandon();
      return send(reply, err);
    }
    status = err.status;
    body = err.toBody();
  }
  begun?.complete({ status, body, requestId: req.id });
  return reply.code(status).send(body);
}

export function registerPaymentRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { engine, billing } = deps;
  const state = engine.state;

  app.post('/api/v1/charges', (req, reply) =>
    idempotentPost(deps, req, reply, chargeBody, (p) => engine.createCharge(p)),
  );
  app.get('/api/v1/charges/:id', async (req, reply) => {
    try {
      return engine.getCharge((req.params as { id: string }).id);
    } catch (err) {
      return send(reply, err);
    }
  });
  app.get('/api/v1/charges', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const meta = metadataFilter(q);
    const items = state
      .newestFirst(state.charges)
      .filter(
        (c) => (!q.customer || c.customer === q.customer) && meta.every(([k, v]) => c.metadata[k] === v),
      );
    const page = paginate(items, '/api/v1/charges', listQuery(q));
    if ('error' in page)
      return send(reply, new ApiError(400, 'invalid_request_error', 'parameter_invalid', page.error));
    return page;
  });

  app.post('/api/v1/refunds', (req, reply) =>
    idempotentPost(deps, req, reply, refundBody, (p) => engine.createRefund(p)),
  );
  app.get('/api/v1/refunds/:id', async (req, reply) => {
    try {
      return engine.getRefund((req.params as { id: string }).id);
    } catch (err) {
      return send(reply, err);
    }
  });
  app.get('/api/v1/refunds', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const meta = metadataFilter(q);
    const items = state
      .newestFirst(state.refunds)
      .filter((r) => (!q.charge || r.charge === q.charge) && meta.every(([k, v]) => r.metadata[k] === v));
    const page = paginate(items, '/api/v1/refunds', listQuery(q));
    if ('error' in page)
      return send(reply, new ApiError(400, 'invalid_request_error', 'parameter_invalid', page.error));
    return page;
  });

  app.post('/api/v1/prices', (req, reply) =>
    idempotentPost(deps, req, reply, priceBody, (p) => {
      const price: Price = {
        id: newId('price'),
        object: 'price',
        nickname: p.nickname ?? null,
        unit_amount: p.unit_amount,
        currency: p.currency.toLowerCase(),
        recurring: { interval: p.recurring.interval, interval_count: p.recurring.interval_count },
        created: engine.clock.nowSeconds(),
      };
      state.prices.set(price.id, price);
      return price;
    }),
  );
  app.get('/api/v1/prices', async () => ({
    object: 'list',
    data: [...state.prices.values()],
    has_more: false,
    url: '/api/v1/prices',
  }));
  app.get('/api/v1/prices/:id', async (req, reply) => {
    const p = state.prices.get((req.params as { id: string }).id);
    return p ?? send(reply, notFound('price', (req.params as { id: string }).id));
  });

  app.post('/api/v1/subscriptions', (req, reply) =>
    idempotentPost(deps, req, reply, subscriptionBody, (p) => billing.create(p)),
  );
  app.get('/api/v1/subscriptions/:id', async (req, reply) => {
    try {
      return billing.get((req.params as { id: string }).id);
    } catch (err) {
      return send(reply, err);
    }
  });
  app.get('/api/v1/subscriptions', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const meta = metadataFilter(q);
    const items = state
      .newestFirst(state.subscriptions)
      .filter(
        (s) =>
          (!q.customer || s.customer === q.customer) &&
          (!q.status || s.status === q.status) &&
          meta.every(([k, v]) => s.metadata[k] === v),
      );
    const page = paginate(items, '/api/v1/subscriptions', listQuery(q));
    if ('error' in page)
      return send(reply, new ApiError(400, 'invalid_request_error', 'parameter_invalid', page.error));
    return page;
  });
  app.post('/api/v1/subscriptions/:id', (req, reply) =>
    idempotentPost(deps, req, reply, subscriptionUpdate, (p) =>
      billing.update((req.params as { id: string }).id, p),
    ),
  );
  app.delete('/api/v1/subscriptions/:id', async (req, reply) => {
    try {
      const atPeriodEnd = (req.query as Record<string, string>).at_period_end === 'true';
      return billing.cancel((req.params as { id: string }).id, atPeriodEnd);
    } catch (err) {
      return send(reply, err);
    }
  });
  app.get('/api/v1/invoices/:id', async (req, reply) => {
    const inv = state.invoices.get((req.params as { id: string }).id);
    return inv ?? send(reply, notFound('invoice', (req.params as { id: string }).id));
  });

  app.get('/api/v1/events/:id', async (req, reply) => {
    const ev = state.events.get((req.params as { id: string }).id);
    return ev ?? send(reply, notFound('event', (req.params as { id: string }).id));
  });
  app.get('/api/v1/events', async (req, reply) => {
    const q = req.query as Record<string, string>;
    const page = paginate(
      state.newestFirst(state.events).filter((e) => !q.type || e.type === q.type),
      '/api/v1/events',
      listQuery(q),
    );
    if ('error' in page)
      return send(reply, new ApiError(400, 'invalid_request_error', 'parameter_invalid', page.error));
    return page;
  });
}
