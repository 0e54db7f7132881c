import { z } from 'zod';
import {
  type Channel,
  emailInputSchema,
  LIMITS,
  type NotificationIntegration,
  notificationIdSchema,
  notificationStatusSchema,
  pushInputSchema,
  smsInputSchema,
} from '../../integrations/notifications/index.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import type { RouteModule } from '../types.js';

const SCHEMAS = { email: emailInputSchema, sms: smsInputSchema, push: pushInputSchema } as const;
const SUMMARY = {
  email: 'Send an email (or a batch of up to 500)',
  sms: 'Send an SMS (or a batch of up to 500)',
  push: 'Send a push notification (or a batch of up to 500)',
} as const;

/**
 * `POST /v1/notifications/{email|sms|push}` (one notification, or `{items: [...]}` with up to 500) and
 * `GET /v1/notifications/{id}`. Sends answer 202 with status `accepted`: the notification is in the ledger
 * and the outbox, and reaches RabbitMQ even if the broker is down right now.
 */
export function notificationRoutes(integration: NotificationIntegration): RouteModule {
  return {
    name: 'notifications',
    flag: 'notifications.enabled',
    register(app, deps) {
      for (const channel of ['email', 'sms', 'push'] as const satisfies readonly Channel[]) {
        const single = SCHEMAS[channel];
        const batch = z.strictObject({ items: z.array(single).min(1).max(LIMITS.batch) });
        app.post(
          `/notifications/${channel}`,
          {
            config: { permission: 'notifications:send', flag: `notifications.${channel}.enabled` },
            schema: {
              tags: ['notifications'],
              summary: SUMMARY[channel],
              description:
                'Requires `Idempotency-Key`. Answers 202: the notification is accepted (ledger + outbox, one transaction) and follows accepted → queued → sent → delivered (or failed / bounced / dead_lettered); poll `GET /v1/notifications/{id}`.',
              headers: idempotencyKeyHeader,
              body: z.union([single, batch]),
              response: {
                202: z.union([
                  notificationStatusSchema,
                  z.object({ items: z.array(notificationStatusSchema) }),
                ]),
              },
            },
          },
          async (request, reply) =>
            withIdempotency<unknown>(deps, request, reply, `notifications.${channel}`, async () => {
              const body = request.body as Record<string, unknown>;
              const correlationId = request.id;
              if (Array.isArray(body.items)) {
                const items = await integration.sendBatch(channel, body.items as never, { correlationId });
                return { status: 202, body: { items } };
              }
              const status =
                channel === 'email'
                  ? await integration.sendEmail(body as never, { correlationId })
                  : channel === 'sms'
                    ? await integration.sendSms(body as never, { correlationId })
                    : await integration.sendPush(body as never, { correlationId });
              return { status: 202, body: status, headers: { location: `/v1/notifications/${status.id}` } };
            }),
        );
      }

      app.get(
        '/notifications/:id',
        {
          config: { permission: 'notifications:read' },
          schema: {
            tags: ['notifications'],
            summary: 'The status of a notification',
            // Checked before the lookup: a malformed id is a 400 naming `params.id`, an unknown one a 404.
            params: z.object({ id: notificationIdSchema }),
            response: { 200: notificationStatusSchema },
          },
        },
        async (request) => integration.getStatus(request.params.id),
      );
    },
  };
}
