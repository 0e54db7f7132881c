import { z } from 'zod';
import {
  PAYMENT_STATUSES,
  type Payment,
  paymentIdSchema,
  type Refund,
  type RefundRequest,
  refundIdSchema,
  refundRequestSchema,
  type WriteOptions,
} from '../../integrations/payments/index.js';
import { isCareBridgeError } from '../../kernel/errors/index.js';
import { audit } from '../../kernel/store/index.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import type { App, FastifyRequest, GatewayDeps } from '../types.js';
import { actor, CREATE_ERRORS, PAYMENTS_VALIDATION, READ_ERRORS, WRITE_ERRORS } from './payment-answers.js';

/** What the refund routes need of the payments integration. */
export interface RefundsPort {
  issueRefund(request: RefundRequest, opts: WriteOptions): Promise<Refund>;
  listRefunds(paymentId: string): Promise<Refund[]>;
  getRefund(paymentId: string, refundId: string): Promise<Refund>;
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

// Ids are checked against their exact format (`pay_<ULID>`, `re_<ULID>`) before any lookup; the body is the
// integration's own refund schema without the id the path already names, and may be left out altogether.
const paymentParams = z.object({ id: paymentIdSchema });
const refundParams = z.object({ id: paymentIdSchema, refundId: refundIdSchema });
const refundBody = refundRequestSchema
  .omit({ paymentId: true })
  // Fastify hands a missing body to the validator as null.
  .nullish()
  .describe('Optional: no body (or `{}`) refunds what remains of the payment.');

/** Where a refund can be read back. */
const location = (r: Refund) => `/v1/payments/${r.paymentId}/refunds/${r.id}`;

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
 * `POST /v1/payments/{id}/refunds` (audited), `GET /v1/payments/{id}/refunds` and
 * `GET /v1/payments/{id}/refunds/{refundId}`.
 */
export function registerRefundRoutes(app: App, deps: GatewayDeps, refunds: RefundsPort): void {
  // A context of its own for one parser: an empty JSON body is no body (refund the rest), as documented.
  app.register(async (scoped) => {
    const json = scoped.getDefaultJsonParser('error', 'error');
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) =>
      body === '' ? done(null, undefined) : json(request, body as string, done),
    );
    registerIssue(scoped as unknown as App, deps, refunds);
  });

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

  app.get(
    '/payments/:id/refunds/:refundId',
    {
      config: { permission: 'payments:read', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'One refund of a payment',
        description: 'Where `Location` of `POST /v1/payments/{id}/refunds` points. 404 PAYMENTS_NOT_FOUND.',
        params: refundParams,
        response: { 200: refundSchema, ...READ_ERRORS },
      },
    },
    async (request) => refunds.getRefund(request.params.id, request.params.refundId),
  );
}

/** `POST /v1/payments/{id}/refunds`: 201 (or 202 while pending) with `Location`; audited either way. */
function registerIssue(app: App, deps: GatewayDeps, refunds: RefundsPort): void {
  app.post(
    '/payments/:id/refunds',
    {
      config: { permission: 'refunds:create', validation: PAYMENTS_VALIDATION },
      schema: {
        tags: ['payments'],
        summary: 'Refund a payment, fully or partly',
        description: `No body, or no \`amount\`: refund what remains. Several partial refunds are allowed up to the amount paid. Answers 201 (202 while the refund is \`pending\`) with \`Location\`. Audited. Errors also: 400 PAYMENTS_REFUND_AMOUNT_TOO_LARGE, 409 PAYMENTS_ALREADY_REFUNDED / PAYMENTS_NOT_REFUNDABLE, 404 PAYMENTS_NOT_FOUND. ${CREATE_ERRORS}`,
        headers: idempotencyKeyHeader,
        params: paymentParams,
        body: refundBody,
        response: { 201: refundSchema, 202: refundSchema, ...WRITE_ERRORS },
      },
    },
    async (request, reply) =>
      withIdempotency(deps, request, reply, 'refunds.create', async ({ key, scope }) => {
        const paymentId = request.params.id;
        try {
          const r = await refunds.issueRefund(
            { paymentId, ...(request.body ?? {}) },
            { idempotencyKey: `${scope}:${key}`, actor: actor(request) },
          );
          await auditRefund(deps, request, paymentId, 'success', {
            refundId: r.id,
            amount: r.amount,
            status: r.status,
          });
          return {
            status: r.status === 'succeeded' ? 201 : 202,
            body: r,
            headers: { location: location(r) },
          };
        } catch (err) {
          await auditRefund(deps, request, paymentId, 'failure', {
            code: isCareBridgeError(err) ? err.code : 'INTERNAL',
          });
          throw err;
        }
      }),
  );
}
