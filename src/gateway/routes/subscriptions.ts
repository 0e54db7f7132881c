import { z } from 'zod';
import {
  SUBSCRIPTION_STATUSES,
  type Subscription,
  type SubscriptionRequest,
  subscriptionIdSchema,
  subscriptionRequestSchema,
  type WriteOptions,
} from '../../integrations/payments/index.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import type { App, GatewayDeps } from '../types.js';
import { actor, CREATE_ERRORS, PAYMENTS_VALIDATION, READ_ERRORS, WRITE_ERRORS } from './payment-answers.js';

/** What the subscription routes need of the payments integration. */
export interface SubscriptionsPort {
  createSubscription(request: SubscriptionRequest, opts: WriteOptions): Promise<Subscription>;
  getSubscription(id: string, opts?: { refresh?: boolean }): Promise<Subscription>;
  cancelSubscription(id: string, opts?: { atPeriodEnd?: boolean }): Promise<Subscription>;
}

const subscriptionSchema = z.object({
  id: z.string(),
  status: z.enum(SUBSCRIPTION_STATUSES),
  customerId: z.string(),
  priceId: z.string(),
  paymentMethod: z.string(),
  trialPeriodDays: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()),
  providerSubscriptionId: z.string().nullable(),
  currentPeriodStart: z.string().nullable(),
  currentPeriodEnd: z.string().nullable(),
  trialEnd: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: z.string().nullable(),
  latestInvoiceId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

// `sub_<ULID>` exactly: a malformed id is a 400 naming `params.id` before any lookup.
const subscriptionParams = z.object({ id: subscriptionIdSchema });

/** `POST /v1/subscriptions`, `GET /v1/subscriptions/{id}` and `DELETE /v1/subscriptions/{id}`. */
export function registerSubscriptionRoutes(
  app: App,
  deps: GatewayDeps,
  subscriptions: SubscriptionsPort,
): void {
  app.post(
    '/subscriptions',
    {
      config: { permission: 'subscriptions:create', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'Start a subscription',
        description: `\`priceId\` is a processor price (sandbox: \`price_basic_monthly\`, \`price_plus_monthly\`, \`price_supplies_yearly\`, \`price_test_daily\`). Status follows incomplete → active / trialing → past_due → unpaid / canceled. ${CREATE_ERRORS}`,
        headers: idempotencyKeyHeader,
        body: subscriptionRequestSchema,
        response: { 201: subscriptionSchema, ...WRITE_ERRORS },
      },
    },
    async (request, reply) =>
      withIdempotency(deps, request, reply, 'subscriptions.create', async ({ key, scope }) => {
        const s = await subscriptions.createSubscription(request.body, {
          idempotencyKey: `${scope}:${key}`,
          actor: actor(request),
        });
        return { status: 201, body: s, headers: { location: `/v1/subscriptions/${s.id}` } };
      }),
  );

  app.get(
    '/subscriptions/:id',
    {
      config: { permission: 'subscriptions:read', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'A subscription',
        description: '`refresh=true` re-reads it from the processor first. 404 PAYMENTS_NOT_FOUND.',
        params: subscriptionParams,
        querystring: z.object({ refresh: z.enum(['true', 'false']).optional() }),
        response: { 200: subscriptionSchema, ...READ_ERRORS },
      },
    },
    async (request) =>
      subscriptions.getSubscription(request.params.id, { refresh: request.query.refresh === 'true' }),
  );

  app.delete(
    '/subscriptions/:id',
    {
      config: { permission: 'subscriptions:cancel', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'Cancel a subscription',
        description:
          'At once (default), or at the end of the current period with `atPeriodEnd=true`. Idempotent.',
        params: subscriptionParams,
        querystring: z.object({ atPeriodEnd: z.enum(['true', 'false']).optional() }),
        response: { 200: subscriptionSchema, ...READ_ERRORS },
      },
    },
    async (request) =>
      subscriptions.cancelSubscription(request.params.id, {
        atPeriodEnd: request.query.atPeriodEnd === 'true',
      }),
  );
}
