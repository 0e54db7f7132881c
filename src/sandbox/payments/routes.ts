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

/** A route over one object: `handler` gets the path's id; an ApiError it throws is the processor's error answer. */
function withId<T>(handler: (id: string, query: Record<string, string>) => T) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      return handler((req.params as { id: string }).id, req.query as Record<string, string>);
    } catch (err) {
      return send(reply, err);
    }
  };
}

/** Looks an id up in one of the state's maps; a missing one is the processor's 404. */
function lookup<T>(objects: Map<string, T>, kind: string) {
  return (id: string): T => {
    const found = objects.get(id);
    if (found === undefined) throw notFound(kind, id);
    return found;
  };
}

/**
 * A collection's list route, as the processor pages it: newest first, narrowed by the query's equality
 * filters (`fields`) and, for objects that carry metadata (events do not), by `metadata[key]=value`.
 */
function listRoute<T extends { id: string }>(
  url: string,
  newestFirst: () => T[],
  fields: Array<keyof T & string>,
) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Record<string, string>;
    const meta = metadataFilter(q);
    const items = newestFirst().filter((item) => {
      const metadata = (item as { metadata?: Record<string, string> }).metadata;
      return (
        fields.every((f) => !q[f] || item[f] === q[f]) &&
        (!metadata || meta.every(([k, v]) => metadata[k] === v))
      );
    });
    const page = paginate(items, url, listQuery(q));
    if ('error' in page)
      return send(reply, new ApiError(400, 'invalid_request_error', 'parameter_invalid', page.error));
    return page;
  };
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

  // What readiness probes call instead of a business endpoint: signed like every /api route (an answer proves
  // the address and the credentials), it reads no records and never counts against the caller's data.
  app.get('/api/v1/health', async () => ({ object: 'health', status: 'ok' }));

  app.post('/api/v1/charges', (req, reply) =>
    idempotentPost(deps, req, reply, chargeBody, (p) => engine.createCharge(p)),
  );
  app.get(
    '/api/v1/charges/:id',
    withId((id) => engine.getCharge(id)),
  );
  app.get(
    '/api/v1/charges',
    listRoute('/api/v1/charges', () => state.newestFirst(state.charges), ['customer']),
  );

  app.post('/api/v1/refunds', (req, reply) =>
    idempotentPost(deps, req, reply, refundBody, (p) => engine.createRefund(p)),
  );
  app.get(
    '/api/v1/refunds/:id',
    withId((id) => engine.getRefund(id)),
  );
  app.get(
    '/api/v1/refunds',
    listRoute('/api/v1/refunds', () => state.newestFirst(state.refunds), ['charge']),
  );

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
  app.get('/api/v1/prices/:id', withId(lookup(state.prices, 'price')));

  app.post('/api/v1/subscriptions', (req, reply) =>
    idempotentPost(deps, req, reply, subscriptionBody, (p) => billing.create(p)),
  );
  app.get(
    '/api/v1/subscriptions/:id',
    withId((id) => billing.get(id)),
  );
  app.get(
    '/api/v1/subscriptions',
    listRoute('/api/v1/subscriptions', () => state.newestFirst(state.subscriptions), ['customer', 'status']),
  );
  app.post('/api/v1/subscriptions/:id', (req, reply) =>
    idempotentPost(deps, req, reply, subscriptionUpdate, (p) =>
      billing.update((req.params as { id: string }).id, p),
    ),
  );
  app.delete(
    '/api/v1/subscriptions/:id',
    withId((id, query) => billing.cancel(id, query.at_period_end === 'true')),
  );
  app.get('/api/v1/invoices/:id', withId(lookup(state.invoices, 'invoice')));

  app.get('/api/v1/events/:id', withId(lookup(state.events, 'event')));
  app.get(
    '/api/v1/events',
    listRoute('/api/v1/events', () => state.newestFirst(state.events), ['type']),
  );
}
