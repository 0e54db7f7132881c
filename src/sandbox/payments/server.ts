import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { DEFAULT_TOLERANCE_SECONDS } from '../../protocols/signing/index.js';
import {
  acquireStateDir,
  createSandboxServer,
  FaultInjector,
  SandboxClock,
  SandboxIdempotency,
  type SandboxServer,
  SandboxStateFile,
  type SavedIdempotencyKey,
} from '../common/index.js';
import { ApiKeyRegistry, installSigningAuth } from './auth.js';
import { BillingEngine, type BillingOptions, DEFAULT_BILLING } from './billing.js';
import { type EngineOptions, PaymentsEngine } from './engine.js';
import { DEFAULT_MAX_OBJECTS, type PaymentsSnapshot, PaymentsState, type Price } from './model.js';
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
  /**
   * Folder to keep the records in (`sandboxStateDir(dataDir)`): loaded at start, saved soon after every
   * change and at close, so a restart on the same folder goes on where it stopped. Unset: memory only.
   */
  stateDir?: string;
  /** Charges, refunds, prices, subscriptions, invoices and events kept, each (the newest). Default 10 000. */
  maxObjects?: number;
  /** Runs after `POST /_sandbox/reset` forgot the records (the component clears the gateway's ledger here). */
  onReset?: () => void | Promise<void>;
}

/** What `<stateDir>/payments.json` holds (version 1). */
interface SavedPayments {
  clockOffsetMs: number;
  records: PaymentsSnapshot;
  idempotencyKeys: SavedIdempotencyKey[];
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
  /** `<stateDir>/payments.json`, or undefined when the records live in memory only. */
  readonly stateFile: string | undefined;
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
  const state = new PaymentsState(
    opts.maxObjects ?? DEFAULT_MAX_OBJECTS,
    new Set(SEED_PRICES.map((p) => p.id)),
  );
  const webhooks = new WebhookDispatcher(opts.webhooks, wallSeconds);
  const engine = new PaymentsEngine(state, clock, webhooks, {
    slowResponseMs: 2000,
    reviewSeconds: 3600,
    refundFailSeconds: 60,
    ...opts.engine,
  });
  const billing = new BillingEngine(engine, { ...DEFAULT_BILLING, ...opts.billing });
  const idempotency = new SandboxIdempotency(clock);
  const release = opts.stateDir ? acquireStateDir(opts.stateDir) : undefined;
  const file = opts.stateDir
    ? new SandboxStateFile<SavedPayments>({
        dir: opts.stateDir,
        name: 'payments',
        version: 1,
        snapshot: () => ({
          clockOffsetMs: Math.max(0, clock.offset()),
          records: state.snapshot(),
          idempotencyKeys: idempotency.snapshot(),
        }),
        onError: (err) => opts.logger?.warn({ err }, 'payments sandbox: could not save its records'),
      })
    : undefined;
  const initialKeys = opts.apiKeys ?? [DEFAULT_SANDBOX_API_KEY];
  const apiKeys = new ApiKeyRegistry(initialKeys);
  let nonces: { clear(): void } | undefined;

  const seedPrices = () => {
    for (const p of SEED_PRICES)
      state.prices.set(p.id, { ...p, object: 'price', created: clock.nowSeconds() });
  };
  const registerEndpoints = () => {
    for (const ep of opts.webhookEndpoints ?? []) webhooks.register(ep);
  };
  let saved: SavedPayments | undefined;
  try {
    saved = file?.load();
  } catch (err) {
    release?.();
    throw err;
  }
  if (saved) {
    try {
      state.restore(saved.records);
      clock.restoreOffset(saved.clockOffsetMs);
      idempotency.restore(saved.idempotencyKeys);
      engine.resume();
      billing.resume();
    } catch (err) {
      // A file of the right version but the wrong shape (edited by hand): start empty, keep it for a look.
      opts.logger?.warn(
        { err, file: file?.file },
        'payments sandbox: saved records unusable; starting empty',
      );
      file?.setAside();
      saved = undefined;
      state.clear();
      billing.reset();
      clock.reset();
      idempotency.clear();
    }
  }
  if (!saved) seedPrices();
  registerEndpoints();

  let server: SandboxServer;
  try {
    server = await createSandboxServer({
      name: 'payments',
      clock,
      faults: new FaultInjector(opts.faultSeed ?? 1),
      logger: opts.logger,
      host: opts.host,
      port: opts.port,
      async reset() {
        state.clear();
        billing.reset();
        idempotency.clear();
        webhooks.reset();
        nonces?.clear();
        for (const k of apiKeys.list()) apiKeys.set(k, []);
        for (const k of initialKeys) apiKeys.set(k.apiKey, k.secrets);
        seedPrices();
        registerEndpoints();
        await file?.clear();
        await opts.onReset?.();
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
        // Every change to the records comes from a request other than a read (clock jobs run inside
        // POST /_sandbox/clock), so one hook keeps the file in step.
        if (file)
          app.addHook('onResponse', async (req) => {
            if (req.method !== 'GET' && req.method !== 'HEAD') file.changed();
          });

        app.post('/_sandbox/webhook-endpoints', async (req, reply) => {
          const p = endpointBody.safeParse(req.body);
          if (!p.success)
            return reply
              .code(400)
              .send({ error: { type: 'invalid_request_error', message: p.error.message } });
          const ep = webhooks.register(p.data);
          return { id: ep.id, url: p.data.url, events: ep.events ?? [] };
        });
        app.delete('/_sandbox/webhook-endpoints/:id', async (req) => ({
          deleted: webhooks.endpoints.delete((req.params as { id: string }).id),
        }));
        app.post('/_sandbox/webhooks', async (req, reply) => {
          const p = knobsBody.safeParse(req.body);
          if (!p.success)
            return reply
              .code(400)
              .send({ error: { type: 'invalid_request_error', message: p.error.message } });
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
            return reply
              .code(400)
              .send({ error: { type: 'invalid_request_error', message: p.error.message } });
          apiKeys.set(p.data.apiKey, p.data.secrets);
          return { apiKey: p.data.apiKey, secrets: p.data.secrets.length };
        });
      },
    });
  } catch (err) {
    release?.();
    throw err;
  }

  const close = server.close.bind(server);
  return Object.assign(server, {
    state,
    engine,
    billing,
    webhooks,
    apiKeys,
    stateFile: file?.file,
    async close() {
      webhooks.close();
      try {
        await close();
        // Always a last save: a request cut off by a fault after commit never reached the onResponse hook.
        file?.changed();
        await file?.close();
      } finally {
        release?.();
      }
    },
  });
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
