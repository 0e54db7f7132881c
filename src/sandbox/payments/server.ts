import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { DEFAULT_TOLERANCE_SECONDS } from '../../protocols/signing/index.js';
import {
  createSandboxServer,
  FaultInjector,
  SandboxClock,
  SandboxIdempotency,
  type SandboxServer,
} from '../common/index.js';
import { ApiKeyRegistry, installSigningAuth } from './auth.js';
import { BillingEngine, type BillingOptions, DEFAULT_BILLING } from './billing.js';
import { type EngineOptions, PaymentsEngine } from './engine.js';
import { PaymentsState, type Price } from './model.js';
import { registerPaymentRoutes } from './routes.js';
import { WebhookDispatcher, type WebhookEndpoint, type WebhookKnobs } from './webhooks.js';

export interface PaymentsSandboxOptions {
  /** API keys and their active secrets (several during a rotation). */
  apiKeys?: Array<{ apiKey: string; secrets: string[] }>;
  /** Webhook endpoints registered at start (more via `POST /_sandbox/webhook-endpoints`). */
  webhookEndpoints?: Array<Omit<WebhookEndpoint, 'id' | 'enabled'>>;
  webhooks?: Partial<WebhookKnobs>;
  billing?: Partial<BillingOptions>;
  engine?: Partial<EngineOptions>;
  toleranceSeconds?: number;
  clock?: SandboxClock;
  /** Wall clock in unix seconds, for signature timestamps (injectable for tests). */
  wallSeconds?: () => number;
  faultSeed?: number;
  logger?: FastifyBaseLogger;
  host?: string;
  port?: number;
}

export const DEFAULT_SANDBOX_API_KEY = { apiKey: 'pk_test_carebridge', secrets: ['sk_test_carebridge'] };

/** Prices every fresh (or reset) sandbox knows. */
export const SEED_PRICES: Array<Omit<Price, 'created' | 'object'>> = [
  {
    id: 'price_basic_monthly',
    nickname: 'Basic care plan',
    unit_amount: 1500,
    currency: 'usd',
    recurring: { interval: 'month', interval_count: 1 },
  },
  {
    id: 'price_plus_monthly',
    nickname: 'Plus care plan',
    unit_amount: 2900,
    currency: 'usd',
    recurring: { interval: 'month', interval_count: 1 },
  },
  {
    id: 'price_supplies_yearly',
    nickname: 'Supplies, yearly',
    unit_amount: 15000,
    currency: 'usd',
    recurring: { interval: 'year', interval_count: 1 },
  },
  {
    id: 'price_test_daily',
    nickname: 'Daily (tests)',
    unit_amount: 100,
    currency: 'usd',
    recurring: { interval: 'day', interval_count: 1 },
  },
];

export interface PaymentsSandbox extends SandboxServer {
  readonly state: PaymentsState;
  readonly engine: PaymentsEngine;
  readonly billing: BillingEngine;
  readonly webhooks: WebhookDispatcher;
  readonly apiKeys: ApiKeyRegistry;
}

const endpointBody = z
  .object({
    url: z.url(),
    secrets: z.array(z.string().min(1)).min(1),
    events: z.array(z.string()).optional(),
  })
  .strict();
const knobsBody = z
  .object({
    duplicateProbability: z.number().min(0).max(1).optional(),
    reorderMaxDelayMs: z.number().int().min(0).max(60_000).optional(),
    retryDelaysMs: z.array(z.number().int().min(0)).max(20).optional(),
  })
  .strict();
const apiKeyBody = z.object({ apiKey: z.string().min(1), secrets: z.array(z.string().min(1)) }).strict();

/**
 * The payment-processor simulator: `/api/v1/charges`, `/refunds`, `/subscriptions`, `/prices`,
 * `/invoices`, `/events`, with v1 request signing, Stripe idempotency, test cards, clock-driven billing,
 * signed at-least-once webhooks and the common `/_sandbox/*` controls.
 */
export async function createPaymentsSandbox(opts: PaymentsSandboxOptions = {}): Promise<PaymentsSandbox> {
  const clock = opts.clock ?? new SandboxClock();
  const wallSeconds = opts.wallSeconds ?? (() => Math.floor(Date.now() / 1000));
  const state = new PaymentsState();
  const webhooks = new WebhookDispatcher(opts.webhooks, wallSeconds);
  const engine = new PaymentsEngine(state, clock, webhooks, {
    slowResponseMs: 2000,
    reviewSeconds: 3600,
    refundFailSeconds: 60,
    ...opts.engine,
  });
  const billing = new BillingEngine(engine, { ...DEFAULT_BILLING, ...opts.billing });
  const idempotency = new SandboxIdempotency(clock);
  const initialKeys = opts.apiKeys ?? [DEFAULT_SANDBOX_API_KEY];
  const apiKeys = new ApiKeyRegistry(initialKeys);
  let nonces: { clear(): void } | undefined;

  const seed = () => {
    for (const p of SEED_PRICES)
      state.prices.set(p.id, { ...p, object: 'price', created: clock.nowSeconds() });
    for (const ep of opts.webhookEndpoints ?? []) webhooks.register(ep);
  };
  seed();

  const server = await createSandboxServer({
    name: 'payments',
    clock,
    faults: new FaultInjector(opts.faultSeed ?? 1),
    logger: opts.logger,
    host: opts.host,
    port: opts.port,
    reset() {
      state.clear();
      billing.reset();
      idempotency.clear();
      webhooks.reset();
      nonces?.clear();
      for (const k of apiKeys.list()) apiKeys.set(k, []);
      for (const k of initialKeys) apiKeys.set(k.apiKey, k.secrets);
      seed();
    },
    state() {
      const charges = [...state.charges.values()];
      return {
        counts: {
          charges: charges.length,
          chargesByStatus: countBy(charges, (c) => c.status),
          refunds: state.refunds.size,
          subscriptions: state.subscriptions.size,
          invoices: state.invoices.size,
          events: state.events.size,
          idempotencyKeys: idempotency.size(),
          webhookDeliveriesPending: webhooks.pending(),
        },
        charges,
        refunds: [...state.refunds.values()],
        subscriptions: [...state.subscriptions.values()],
        invoices: [...state.invoices.values()],
        webhookEndpoints: [...webhooks.endpoints.values()].map((e) => ({
          id: e.id,
          events: e.events ?? [],
          enabled: e.enabled,
        })),
        webhookDeliveries: webhooks.log.slice(-200),
      };
    },
    routes(app) {
      nonces = installSigningAuth(app, apiKeys, {
        wallSeconds,
        toleranceSeconds: opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      });
      registerPaymentRoutes(app, { engine, billing, idempotency });

      app.post('/_sandbox/webhook-endpoints', async (req, reply) => {
        const p = endpointBody.safeParse(req.body);
        if (!p.success)
          return reply.code(400).send({ error: { type: 'invalid_request_error', message: p.error.message } });
        const ep = webhooks.register(p.data);
        return { id: ep.id, url: p.data.url, events: ep.events ?? [] };
      });
      app.delete('/_sandbox/webhook-endpoints/:id', async (req) => ({
        deleted: webhooks.endpoints.delete((req.params as { id: string }).id),
      }));
      app.post('/_sandbox/webhooks', async (req, reply) => {
        const p = knobsBody.safeParse(req.body);
        if (!p.success)
          return reply.code(400).send({ error: { type: 'invalid_request_error', message: p.error.message } });
        webhooks.knobs = { ...webhooks.knobs, ...p.data };
        return webhooks.knobs;
      });
      app.post('/_sandbox/events/:id/redeliver', async (req, reply) => {
        const ev = state.events.get((req.params as { id: string }).id);
        if (!ev)
          return reply.code(404).send({
            error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such event' },
          });
        webhooks.dispatch(ev);
        return { redelivered: ev.id };
      });
      app.post('/_sandbox/api-keys', async (req, reply) => {
        const p = apiKeyBody.safeParse(req.body);
        if (!p.success)
          return reply.code(400).send({ error: { type: 'invalid_request_error', message: p.error.message } });
        apiKeys.set(p.data.apiKey, p.data.secrets);
        return { apiKey: p.data.apiKey, secrets: p.data.secrets.length };
      });
    },
  });

  const close = server.close.bind(server);
  return Object.assign(server, {
    state,
    engine,
    billing,
    webhooks,
    apiKeys,
    async close() {
      webhooks.close();
      await close();
    },
  });
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
