import { z } from 'zod';
import { envBoolean, envInt, flag, setting, splitCommaList } from '../../kernel/config/index.js';

/** Comma-separated positive integers (milliseconds), e.g. `1000,5000,30000`. */
const delayList = z.preprocess(
  (v) => {
    const items = splitCommaList(v);
    return Array.isArray(items) ? items.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) : items;
  },
  z
    .array(z.number({ error: 'expected comma-separated milliseconds' }).int().min(1).max(86_400_000), {
      error: 'expected comma-separated milliseconds',
    })
    .min(1, { error: 'expected at least one delay' })
    .max(10, { error: 'expected at most 10 delays' }),
);

/** Settings of the notifications area. Owned by that area; each entry is documented in the README's table. */
export const notificationsSettings = {
  rabbitmqUrl: setting({
    env: 'RABBITMQ_URL',
    schema: z.string().regex(/^amqps?:\/\/[^\s]+$/, { error: 'expected an amqp:// or amqps:// URL' }),
    default: { development: 'amqp://guest:guest@127.0.0.1:5672', test: 'amqp://guest:guest@127.0.0.1:5672' },
    description: 'RabbitMQ broker of the notification service (amqps:// for TLS; the vhost is the URL path).',
    requiredInProduction: true,
    transport: 'url',
  }),
  rabbitmqUsername: setting({
    env: 'RABBITMQ_USERNAME',
    schema: z.string().min(1).optional(),
    description: 'RabbitMQ user; overrides the user in RABBITMQ_URL.',
  }),
  rabbitmqPassword: setting({
    env: 'RABBITMQ_PASSWORD',
    schema: z.string().min(1).optional(),
    description: 'RabbitMQ password (or RABBITMQ_PASSWORD_FILE); overrides the password in RABBITMQ_URL.',
    secret: true,
  }),
  rabbitmqCaFile: setting({
    env: 'RABBITMQ_CA_FILE',
    schema: z.string().min(1).optional(),
    description: 'PEM file with the CA that signed the broker certificate (amqps://).',
  }),
  rabbitmqCertFile: setting({
    env: 'RABBITMQ_CERT_FILE',
    schema: z.string().min(1).optional(),
    description: 'PEM client certificate for amqps:// mutual TLS.',
  }),
  rabbitmqKeyFile: setting({
    env: 'RABBITMQ_KEY_FILE',
    schema: z.string().min(1).optional(),
    description: 'PEM private key of the client certificate (amqps:// mutual TLS).',
  }),
  rabbitmqKeyPassphrase: setting({
    env: 'RABBITMQ_KEY_PASSPHRASE',
    schema: z.string().min(1).optional(),
    description: 'Passphrase of RABBITMQ_KEY_FILE (or RABBITMQ_KEY_PASSPHRASE_FILE).',
    secret: true,
  }),
  notificationsBrokerRequired: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_BROKER_REQUIRED',
    schema: envBoolean,
    default: false,
    description:
      'Whether /health/ready answers 503 while RabbitMQ is down. Default false: the outbox holds notifications, so the gateway stays ready and reports `degraded`.',
  }),
  notificationsRetryDelaysMs: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_RETRY_DELAYS_MS',
    schema: delayList,
    default: '1000,5000,30000',
    description:
      'Delay before each redelivery attempt (one TTL retry queue per value); attempts = number of delays + 1, then the dead-letter queue.',
  }),
  notificationsPrefetch: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_PREFETCH',
    schema: envInt(1, 1000),
    default: 50,
    description:
      'Unacknowledged messages per consumer (basic.qos) for the status consumer and the reference service.',
  }),
  notificationsConfirmTimeoutMs: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_CONFIRM_TIMEOUT_MS',
    schema: envInt(100, 120_000),
    default: 10_000,
    description: 'How long a publish waits for the broker confirm before the outbox retries it.',
  }),
  notificationsSandbox: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_SANDBOX',
    schema: envBoolean,
    default: { development: true, test: true, production: false },
    description:
      'Start the in-process reference notification service (consumes the queues, SMTP sink, SMS/push fakes, /_sandbox control).',
  }),
  notificationsSandboxPort: setting({
    env: 'CAREBRIDGE_NOTIFICATIONS_SANDBOX_PORT',
    schema: envInt(0, 65535),
    default: 0,
    description: 'Port of the reference service control surface (GET /_sandbox/state); 0 picks a free port.',
  }),
};

const channelSwitch = (channel: string) =>
  flag({
    default: true,
    description: `Switch of the ${channel} channel: off, \`POST /v1/notifications/${channel}\` (single and batch) answers 503 \`FEATURE_DISABLED\`; the other channels and status reads go on. Messages other integrations write (payment receipts) are not affected.`,
  });

/** Feature flags of the notifications area (CAREBRIDGE_FEATURE_FLAGS; the README's flag table is generated from them). */
export const notificationsFlags = {
  'notifications.enabled': flag({
    default: true,
    description:
      'Kill switch of notifications: off, every `/v1/notifications*` route answers 503 `FEATURE_DISABLED`. Messages already accepted are still published and their delivery reports applied.',
  }),
  'notifications.email.enabled': channelSwitch('email'),
  'notifications.sms.enabled': channelSwitch('sms'),
  'notifications.push.enabled': channelSwitch('push'),
};
