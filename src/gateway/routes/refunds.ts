import { z } from 'zod';
import {
  PAYMENT_STATUSES,
  type Payment,
  paymentIdSchema,
  type Refund,
  type RefundRequest,
  refundRequestSchema,
  type WriteOptions,
} from '../../integrations/payments/index.js';
import { isCareBridgeError } from '../../kernel/errors/index.js';
import { audit } from '../../kernel/store/audit.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import type { App, FastifyRequest, GatewayDeps } from '../types.js';
import { actor, CREATE_ERRORS, PAYMENTS_VALIDATION, READ_ERRORS, WRITE_ERRORS } from './payment-answers.js';

/** What the refund routes need of the payments integration. */
export interface RefundsPort {
  issueRefund(request: RefundRequest, opts: WriteOptions): Promise<Refund>;
  listRefunds(paymentId: string): Promise<Refund[]>;
  getPayment(id: string, opts?: { reconcile?: boolean }): Promise<Payment>;
}

const refundSchema = z.object({
  id: z.string(),
  paymentId: z.string(),
  status: z.enum(PAYMENT_STATUSES),
  amount: z.number().int().nullable(),
  currency: z.string(),
  reason: z.string().nullable(),
  providerRefundId: z.string().nullable(),
  failureReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

// The payment id is checked against its exact format (`pay_<ULID>`) before any lookup; the body is the
// integration's own refund schema without the id the path already names.
const paymentParams = z.object({ id: paymentIdSchema });

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

/** `POST /v1/payments/{id}/refunds` (audited) and `GET /v1/payments/{id}/refunds`. */
export function registerRefundRoutes(app: App, deps: GatewayDeps, refunds: RefundsPort): void {
  app.post(
    '/payments/:id/refunds',
    {
      config: { permission: 'refunds:create', validation: PAYMENTS_VALIDATION },
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
          const r = await refunds.issueRefund(
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
      config: { permission: 'payments:read', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'Refunds of a payment',
        params: paymentParams,
        response: { 200: z.object({ data: z.array(refundSchema) }), ...READ_ERRORS },
      },
    },
    async (request) => {
      await refunds.getPayment(request.params.id, { reconcile: false });
      return { data: await refunds.listRefunds(request.params.id) };
    },
  );
}
