import { z } from 'zod';
import {
  CHANNELS,
  type Channel,
  type ChannelInput,
  emailInputSchema,
  LIMITS,
  type NotificationStatus,
  notificationErrors,
  notificationIdSchema,
  notificationStatusSchema,
  pushInputSchema,
  type SendOptions,
  smsInputSchema,
} from '../../integrations/notifications/index.js';
import type { ValidationAnswer } from '../plugins/errors.js';
import { idempotencyKeyHeader, withIdempotency } from '../plugins/idempotency.js';
import { problemResponse } from '../schemas/problem.js';
import type { App, GatewayDeps, RouteModule } from '../types.js';

/** What the notification routes need of the notifications integration (`NotificationIntegration` is one). */
export interface NotificationsPort {
  send<C extends Channel>(
    channel: C,
    input: ChannelInput[C],
    opts?: SendOptions,
  ): Promise<NotificationStatus>;
  sendBatch<C extends Channel>(
    channel: C,
    inputs: Array<ChannelInput[C]>,
    opts?: SendOptions,
  ): Promise<NotificationStatus[]>;
  getStatus(id: string): Promise<NotificationStatus>;
}

/** A request the schema refuses is NOTIFICATIONS_INVALID_MESSAGE naming the field (`body.to`, `params.id`). */
const NOTIFICATIONS_VALIDATION: ValidationAnswer = {
  error: notificationErrors.invalidMessage,
  integration: 'notifications',
};

/** The integration's own input schemas: the route and the library refuse the same input. */
const SCHEMAS = { email: emailInputSchema, sms: smsInputSchema, push: pushInputSchema } as const;
const SUMMARY = {
  email: 'Send an email (or a batch of up to 500)',
  sms: 'Send an SMS (or a batch of up to 500)',
  push: 'Send a push notification (or a batch of up to 500)',
} as const;

/** `POST /v1/notifications/{channel}`: one notification, or `{items: [...]}` with up to 500. */
function registerSend(app: App, deps: GatewayDeps, notifications: NotificationsPort, channel: Channel): void {
  const single = SCHEMAS[channel];
  const batch = z.strictObject({ items: z.array(single).min(1).max(LIMITS.batch) });
  app.post(
    `/notifications/${channel}`,
    {
      config: {
        permission: 'notifications:send',
        validation: NOTIFICATIONS_VALIDATION,
        flag: `notifications.${channel}.enabled`,
      },
      schema: {
        tags: ['notifications'],
        summary: SUMMARY[channel],
        description:
          'Requires `Idempotency-Key`. Answers 202: the notification is accepted (ledger + outbox, one transaction) and follows accepted → queued → sent → delivered (or failed / bounced / dead_lettered); poll `GET /v1/notifications/{id}`.',
        headers: idempotencyKeyHeader,
        body: z.union([single, batch]),
        response: {
          202: z.union([notificationStatusSchema, z.object({ items: z.array(notificationStatusSchema) })]),
          400: problemResponse(
            'NOTIFICATIONS_INVALID_MESSAGE (`field` names it, `errors` lists all), NOTIFICATIONS_TEMPLATE_UNKNOWN, NOTIFICATIONS_TEMPLATE_VARIABLE_MISSING, IDEMPOTENCY_KEY_REQUIRED, IDEMPOTENCY_KEY_INVALID',
          ),
          409: problemResponse('IDEMPOTENCY_KEY_IN_FLIGHT'),
          413: problemResponse(
            'NOTIFICATIONS_MESSAGE_TOO_LARGE (`field` names the part over its limit, `limitBytes` the limit), PAYLOAD_TOO_LARGE',
          ),
          422: problemResponse('IDEMPOTENCY_KEY_REUSED'),
        },
      },
    },
    async (request, reply) =>
      withIdempotency<unknown>(deps, request, reply, `notifications.${channel}`, async () => {
        const body = request.body;
        const opts = { correlationId: request.id };
        if ('items' in body) {
          return { status: 202, body: { items: await notifications.sendBatch(channel, body.items, opts) } };
        }
        const status = await notifications.send(channel, body, opts);
        return { status: 202, body: status, headers: { location: `/v1/notifications/${status.id}` } };
      }),
  );
}

/**
 * `POST /v1/notifications/{email|sms|push}` (one notification, or `{items: [...]}` with up to 500) and
 * `GET /v1/notifications/{id}`. Sends answer 202 with status `accepted`: the notification is in the ledger
 * and the outbox, and reaches RabbitMQ even if the broker is down right now.
 */
export function notificationRoutes(notifications: NotificationsPort): RouteModule {
  return {
    name: 'notifications',
    flag: 'notifications.enabled',
    register(app, deps) {
      for (const channel of CHANNELS) registerSend(app, deps, notifications, channel);

      app.get(
        '/notifications/:id',
        {
          config: { permission: 'notifications:read', validation: NOTIFICATIONS_VALIDATION },
          schema: {
            tags: ['notifications'],
            summary: 'The status of a notification',
            // Checked before the lookup: a malformed id is a 400 naming `params.id`, an unknown one a 404.
            params: z.object({ id: notificationIdSchema }),
            response: {
              200: notificationStatusSchema,
              400: problemResponse('NOTIFICATIONS_INVALID_MESSAGE (`field`: params.id)'),
              404: problemResponse('NOTIFICATIONS_NOT_FOUND'),
            },
          },
        },
        async (request) => notifications.getStatus(request.params.id),
      );
    },
  };
}
