import { z } from 'zod';
import type { PaymentWebhookProcessor } from '../../integrations/payments/index.js';
import type { RouteModule } from '../types.js';

/**
 * `POST /webhooks/payments`: the processor's events. The signature is checked on the RAW body (this scoped
 * plugin keeps it: a JSON parser that does not re-serialise), the event is stored once by its id, the
 * answer is a fast 200, and the event is applied in the background (order-independent, see
 * PaymentWebhookProcessor). A bad signature is a 401 problem+json, which the processor does not retry.
 */
export function paymentWebhookRoutes(processor: PaymentWebhookProcessor): RouteModule {
  return {
    name: 'payments-webhooks',
    prefix: '/webhooks',
    register(app) {
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      );
      app.post(
        '/payments',
        {
          config: { public: true },
          schema: {
            tags: ['webhooks'],
            summary: 'Payment processor events',
            description:
              'Signed with `Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` (one v1 per active secret). 401 PAYMENTS_WEBHOOK_SIGNATURE_INVALID when no secret matches or the timestamp is more than PAYMENTS_WEBHOOK_TOLERANCE_SECONDS away; 400 PAYMENTS_INVALID_REQUEST (`details.field`) when the body is not an event: the event id and object ids are 1–255 letters, digits, `_` or `-`, the type is dotted lower case (`charge.succeeded`), metadata holds no NUL, control or unpaired surrogate characters.',
            headers: z.object({ 'webhook-signature': z.string().optional() }),
            response: {
              200: z.object({ received: z.literal(true), duplicate: z.boolean() }),
              400: z
                .looseObject({ code: z.string() })
                .describe('application/problem+json; code: PAYMENTS_INVALID_REQUEST'),
              401: z
                .looseObject({ code: z.string() })
                .describe('application/problem+json; code: PAYMENTS_WEBHOOK_SIGNATURE_INVALID'),
            },
          },
        },
        async (request) => {
          const raw = typeof request.body === 'string' ? request.body : '';
          const { eventId, duplicate } = await processor.receive(raw, request.headers['webhook-signature']);
          // Duplicates too: a first delivery whose apply failed is retried; applying twice changes nothing.
          processor.schedule(eventId);
          return { received: true as const, duplicate };
        },
      );
    },
  };
}
