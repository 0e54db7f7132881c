import { z } from 'zod';
import {
  PAYMENT_STATUSES,
  type PaymentIntegration,
  paymentIdSchema,
  paymentRequestSchema,
  refundRequestSchema,
  SUBSCRIPTION_STATUSES,
  subscriptionIdSchema,
  subscriptionRequestSchema,
} from '../../integrations/payments/index.js';
import { isCareBridgeError } from '../../kernel/errors/index.js';
import { safeText } from '../../kernel/schemas/index.js';
import { audit } from '../../kernel/store/index.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import type { FastifyRequest, GatewayDeps, RouteModule } from '../types.js';

const paymentStatus = z.enum(PAYMENT_STATUSES);
const paymentSchema = z.object({
  id: z.string(),
  status: paymentStatus,
  amount: z.number().int(),
  currency: z.string(),
  customerId: z.string(),
  paymentMethod: z.string(),
  description: z.string().nullable(),
  metadata: z.record(z.string(), z.string()),
  receiptEmail: z.string().nullable(),
  amountRefunded: z.number().int(),
  providerChargeId: z.string().nullable(),
  failure: z
    .object({
      code: z.string().nullable(),
      declineCode: z.string().nullable(),
      message: z.string().nullable(),
    })
    .nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const refundSchema = z.object({
  id: z.string(),
  paymentId: z.string(),
  status: paymentStatus,
  amount: z.number().int().nullable(),
  currency: z.string(),
  reason: z.string().nullable(),
  providerRefundId: z.string().nullable(),
  failureReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
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

/** RFC 9457 problem details; `code` is one of docs/errors.md. Extension members (declineCode, paymentId, …) pass. */
const problem = (codes: string) =>
  z
    .looseObject({
      type: z.string(),
      title: z.string(),
      status: z.number().int(),
      detail: z.string(),
      code: z.string(),
      requestId: z.string(),
    })
    .describe(`application/problem+json; code: ${codes}`);
const READ_ERRORS = {
  400: problem('VALIDATION_FAILED (details.field names the parameter, e.g. params.id)'),
  404: problem('PAYMENTS_NOT_FOUND'),
  502: problem('PAYMENTS_UPSTREAM_ERROR'),
  503: problem('PAYMENTS_PROVIDER_UNAVAILABLE, CIRCUIT_OPEN'),
};
const WRITE_ERRORS = {
  400: problem(
    'VALIDATION_FAILED, PAYMENTS_INVALID_REQUEST, PAYMENTS_REFUND_AMOUNT_TOO_LARGE, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_INVALID',
  ),
  402: problem('PAYMENTS_CARD_DECLINED (declineCode, paymentId), PAYMENTS_PROCESSING_ERROR'),
  404: problem('PAYMENTS_NOT_FOUND'),
  409: problem(
    'IDEMPOTENCY_KEY_IN_FLIGHT, PAYMENTS_IDEMPOTENCY_CONFLICT, PAYMENTS_ALREADY_REFUNDED, PAYMENTS_NOT_REFUNDABLE',
  ),
  422: problem('IDEMPOTENCY_KEY_REUSED'),
  429: problem('PAYMENTS_RATE_LIMITED, RATE_LIMITED (Retry-After)'),
  502: problem(
    'PAYMENTS_OUTCOME_UNKNOWN (retry with the same key), PAYMENTS_AUTHENTICATION_FAILED, PAYMENTS_UPSTREAM_ERROR',
  ),
  503: problem('PAYMENTS_PROVIDER_UNAVAILABLE, CIRCUIT_OPEN, BULKHEAD_FULL'),
};

// Ids are checked against their exact format (`pay_<ULID>`, `sub_<ULID>`): a malformed one is a 400 naming
// `params.id` before any lookup. Bodies are the integration's own request schemas, so the route and the
// library refuse the same input.
const paymentParams = z.object({ id: paymentIdSchema });
const subscriptionParams = z.object({ id: subscriptionIdSchema });

const CREATE_ERRORS =
  'Errors (problem+json `code`): 400 VALIDATION_FAILED / PAYMENTS_INVALID_REQUEST / IDEMPOTENCY_KEY_REQUIRED, 402 PAYMENTS_CARD_DECLINED (`declineCode`, `paymentId`) / PAYMENTS_PROCESSING_ERROR, 409 IDEMPOTENCY_KEY_IN_FLIGHT / PAYMENTS_IDEMPOTENCY_CONFLICT, 422 IDEMPOTENCY_KEY_REUSED, 429 PAYMENTS_RATE_LIMITED (`Retry-After`), 502 PAYMENTS_OUTCOME_UNKNOWN (retry with the same key: it reconciles) / PAYMENTS_AUTHENTICATION_FAILED, 503 PAYMENTS_PROVIDER_UNAVAILABLE / CIRCUIT_OPEN. Replays carry `Idempotent-Replayed: true`.';

function actor(request: FastifyRequest): string {
  return request.principal?.subject ?? 'anonymous';
}

async function auditRefund(
  deps: GatewayDeps,
  request: FastifyRequest,
  paymentId: string,
  outcome: 'success' | 'failure',
  details: Record<string, unknown>,
) {
  await audit(deps.store, {
    actor: actor(request),
    action: 'refunds.create',
    resource: `payment:${paymentId}`,
    outcome,
    requestId: request.id,
    details,
  }).catch((err) => request.log.error({ err }, 'audit write failed'));
}

/**
 * `/v1/payments`, `/v1/payments/{id}/refunds`, `/v1/subscriptions`: each persisted in the payments ledger
 * with the processor's ids. Creating calls need `Idempotency-Key`; the processor-side key is derived from
 * it (and the caller), so a retried request can never charge twice.
 */
export function paymentRoutes(payments: PaymentIntegration): RouteModule {
  return {
    name: 'payments',
    flag: 'payments.enabled',
    register(app, deps) {
      app.post(
        '/payments',
        {
          config: { permission: 'payments:create' },
          schema: {
            tags: ['payments'],
            summary: 'Charge a customer',
            description: `Amount in minor units (1250 = 12.50) with an ISO 4217 currency; \`paymentMethod\` is a processor token (sandbox: \`pm_card_visa\`, \`pm_card_chargeDeclined\`, …). Answers 201 \`succeeded\`, or 202 \`pending\` (fraud review). ${CREATE_ERRORS}`,
            headers: idempotencyKeyHeader,
            body: paymentRequestSchema,
            response: { 201: paymentSchema, 202: paymentSchema, ...WRITE_ERRORS },
          },
        },
        async (request, reply) =>
          withIdempotency(deps, request, reply, 'payments.create', async ({ key, scope }) => {
            const p = await payments.processPayment(request.body, {
              idempotencyKey: `${scope}:${key}`,
              actor: actor(request),
            });
            return {
              status: p.status === 'succeeded' ? 201 : 202,
              body: p,
              headers: { location: `/v1/payments/${p.id}` },
            };
          }),
      );

      app.get(
        '/payments/:id',
        {
          config: { permission: 'payments:read' },
          schema: {
            tags: ['payments'],
            summary: 'A payment, as the ledger knows it',
            description:
              'A payment whose outcome is `unknown` is reconciled with the processor first. 404 PAYMENTS_NOT_FOUND.',
            params: paymentParams,
            response: { 200: paymentSchema, ...READ_ERRORS },
          },
        },
        async (request) => payments.getPayment(request.params.id),
      );

      app.get(
        '/payments',
        {
          config: { permission: 'payments:read' },
          schema: {
            tags: ['payments'],
            summary: 'List payments, newest first',
            description: 'Cursor pagination: pass `nextCursor` of a page as `cursor` to get the next one.',
            querystring: z.object({
              limit: z.coerce.number().int().min(1).max(100).default(20),
              cursor: paymentIdSchema
                .optional()
                .describe('`nextCursor` of the previous page (a payment id).'),
              // An empty filter stays "no filter", as before; the characters follow the customerId rule.
              customerId: safeText({ max: 255 }).optional(),
            }),
            response: {
              200: z.object({ data: z.array(paymentSchema), nextCursor: z.string().nullable() }),
              400: READ_ERRORS[400],
            },
          },
        },
        async (request) => payments.listPayments(request.query),
      );

      app.post(
        '/payments/:id/refunds',
        {
          config: { permission: 'refunds:create' },
          schema: {
            tags: ['payments'],
            summary: 'Refund a payment, fully or partly',
            description: `No \`amount\`: refund what remains. Several partial refunds are allowed up to the amount paid. Audited. Errors also: 400 PAYMENTS_REFUND_AMOUNT_TOO_LARGE, 409 PAYMENTS_ALREADY_REFUNDED / PAYMENTS_NOT_REFUNDABLE, 404 PAYMENTS_NOT_FOUND. ${CREATE_ERRORS}`,
            headers: idempotencyKeyHeader,
            params: paymentParams,
            body: refundRequestSchema.omit({ paymentId: true }),
            response: { 201: refundSchema, 202: refundSchema, ...WRITE_ERRORS },
          },
        },
        async (request, reply) =>
          withIdempotency(deps, request, reply, 'refunds.create', async ({ key, scope }) => {
            const paymentId = request.params.id;
            try {
              const r = await payments.issueRefund(
                { paymentId, ...request.body },
                { idempotencyKey: `${scope}:${key}`, actor: actor(request) },
              );
              await auditRefund(deps, request, paymentId, 'success', {
                refundId: r.id,
                amount: r.amount,
                status: r.status,
              });
              return { status: r.status === 'succeeded' ? 201 : 202, body: r };
            } catch (err) {
              await auditRefund(deps, request, paymentId, 'failure', {
                code: isCareBridgeError(err) ? err.code : 'INTERNAL',
              });
              throw err;
            }
          }),
      );

      app.get(
        '/payments/:id/refunds',
        {
          config: { permission: 'payments:read' },
          schema: {
            tags: ['payments'],
            summary: 'Refunds of a payment',
            params: paymentParams,
            response: { 200: z.object({ data: z.array(refundSchema) }), ...READ_ERRORS },
          },
        },
        async (request) => {
          await payments.getPayment(request.params.id, { reconcile: false });
          return { data: await payments.listRefunds(request.params.id) };
        },
      );

      app.post(
        '/subscriptions',
        {
          config: { permission: 'subscriptions:create' },
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
            const s = await payments.createSubscription(request.body, {
              idempotencyKey: `${scope}:${key}`,
              actor: actor(request),
            });
            return { status: 201, body: s, headers: { location: `/v1/subscriptions/${s.id}` } };
          }),
      );

      app.get(
        '/subscriptions/:id',
        {
          config: { permission: 'subscriptions:read' },
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
          payments.getSubscription(request.params.id, { refresh: request.query.refresh === 'true' }),
      );

      app.delete(
        '/subscriptions/:id',
        {
          config: { permission: 'subscriptions:cancel' },
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
          payments.cancelSubscription(request.params.id, {
            atPeriodEnd: request.query.atPeriodEnd === 'true',
          }),
      );
    },
  };
}
