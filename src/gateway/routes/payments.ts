import { z } from 'zod';
import {
  PAYMENT_STATUSES,
  type Page,
  type Payment,
  type PaymentRequest,
  paymentErrors,
  paymentIdSchema,
  paymentRequestSchema,
  type WriteOptions,
} from '../../integrations/payments/index.js';
import { safeText } from '../../kernel/schemas/index.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import { problemResponse } from '../schemas/problem.js';
import type { App, GatewayDeps, RouteModule } from '../types.js';
import { actor, CREATE_ERRORS, PAYMENTS_VALIDATION, READ_ERRORS, WRITE_ERRORS } from './payment-answers.js';
import { type RefundsPort, registerRefundRoutes } from './refunds.js';
import { registerSubscriptionRoutes, type SubscriptionsPort } from './subscriptions.js';

/** What the payment routes need of the payments integration (`PaymentIntegration` is one). */
export interface PaymentsPort extends RefundsPort, SubscriptionsPort {
  processPayment(request: PaymentRequest, opts: WriteOptions): Promise<Payment>;
  getPayment(id: string, opts?: { reconcile?: boolean }): Promise<Payment>;
  listPayments(q: { limit?: number; cursor?: string; customerId?: string }): Promise<Page<Payment>>;
}

const paymentSchema = z.object({
  id: z.string(),
  status: z.enum(PAYMENT_STATUSES),
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

// Ids are checked against their exact format (`pay_<ULID>`): a malformed one is a 400 naming `params.id`
// before any lookup. Bodies are the integration's own request schemas, so the route and the library refuse
// the same input and the OpenAPI document states the rule that is enforced.
const paymentParams = z.object({ id: paymentIdSchema });

/** `POST /v1/payments`, `GET /v1/payments/{id}` and `GET /v1/payments`. */
function registerPaymentRoutes(app: App, deps: GatewayDeps, payments: PaymentsPort): void {
  app.post(
    '/payments',
    {
      config: { permission: 'payments:create', validation: PAYMENTS_VALIDATION },
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
      config: { permission: 'payments:read', validation: PAYMENTS_VALIDATION },
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
      config: {
        permission: 'payments:read',
        // A cursor that is not a payment id is its own mistake: never the first page again, never a list.
        validation: { ...PAYMENTS_VALIDATION, fields: { 'querystring.cursor': paymentErrors.invalidCursor } },
      },
      schema: {
        tags: ['payments'],
        summary: 'List payments, newest first',
        description:
          'Cursor pagination: pass `nextCursor` of a page as `cursor` to get the next one. A `cursor` that is not a payment id (`pay_<ULID>`) is 400 PAYMENTS_INVALID_CURSOR.',
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: paymentIdSchema.optional().describe('`nextCursor` of the previous page (a payment id).'),
          // An empty filter stays "no filter", as before; the characters follow the customerId rule.
          customerId: safeText({ max: 255 }).optional(),
        }),
        response: {
          200: z.object({ data: z.array(paymentSchema), nextCursor: z.string().nullable() }),
          400: problemResponse(
            'PAYMENTS_INVALID_CURSOR, PAYMENTS_INVALID_REQUEST (`field` names the parameter)',
          ),
        },
      },
    },
    async (request) => payments.listPayments(request.query),
  );
}

/**
 * `/v1/payments`, `/v1/payments/{id}/refunds`, `/v1/subscriptions`: each persisted in the payments ledger
 * with the processor's ids. Creating calls need `Idempotency-Key`; the processor-side key is derived from
 * it (and the caller), so a retried request can never charge twice. One module, one file per resource.
 */
export function paymentRoutes(payments: PaymentsPort): RouteModule {
  return {
    name: 'payments',
    flag: 'payments.enabled',
    register(app, deps) {
      registerPaymentRoutes(app, deps, payments);
      registerRefundRoutes(app, deps, payments);
      registerSubscriptionRoutes(app, deps, payments);
    },
  };
}
