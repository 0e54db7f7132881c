import { z } from 'zod';
import { commaList, envInt, flag, setting, urlOrSandbox } from '../../kernel/config/index.js';

const secretList = commaList.pipe(
  z.array(z.string().min(16, { error: 'each secret needs at least 16 characters' })).min(1),
);

/** Settings of the payments area. Owned by that area; each entry is documented in the README's table. */
export const paymentsSettings = {
  paymentsBaseUrl: setting({
    env: 'PAYMENTS_BASE_URL',
    schema: urlOrSandbox,
    default: { development: 'sandbox', test: 'sandbox' },
    description: 'Payment processor base URL, or `sandbox` to start the in-process payments simulator.',
    requiredInProduction: true,
    transport: 'url',
  }),
  paymentsApiKey: setting({
    env: 'PAYMENTS_API_KEY',
    schema: z.string().min(4).max(255),
    default: { development: 'pk_test_carebridge', test: 'pk_test_carebridge' },
    description: 'Processor API key id (X-Api-Key; public, the secret never travels).',
    requiredInProduction: true,
  }),
  paymentsApiSecrets: setting({
    env: 'PAYMENTS_API_SECRETS',
    schema: secretList,
    default: { development: ['sk_test_carebridge_dev_1'], test: ['sk_test_carebridge_dev_1'] },
    description:
      'Request-signing secrets, comma-separated; every request carries one signature per secret (list new and old during a rotation).',
    secret: true,
    requiredInProduction: true,
  }),
  paymentsWebhookSecrets: setting({
    env: 'PAYMENTS_WEBHOOK_SECRETS',
    schema: secretList,
    default: { development: ['whsec_carebridge_dev_1'], test: ['whsec_carebridge_dev_1'] },
    description:
      'Secrets that verify `POST /webhooks/payments`, comma-separated (any one may match: rotation).',
    secret: true,
    requiredInProduction: true,
  }),
  paymentsWebhookToleranceSeconds: setting({
    env: 'PAYMENTS_WEBHOOK_TOLERANCE_SECONDS',
    schema: envInt(1, 3600),
    default: 300,
    description: 'Largest age (either way) of a webhook signature timestamp, in seconds.',
  }),
  paymentsWebhookUrl: setting({
    env: 'PAYMENTS_WEBHOOK_URL',
    schema: z.url({ error: 'expected a URL' }).optional(),
    description:
      "Sandbox only: where the in-process simulator delivers webhooks. Unset: this gateway's own `/webhooks/payments`.",
  }),
  paymentsAttemptTimeoutMs: setting({
    env: 'PAYMENTS_ATTEMPT_TIMEOUT_MS',
    schema: envInt(50, 120_000),
    default: 10_000,
    description:
      'Per-attempt timeout of processor calls (ms); a timed-out write is reconciled, never blindly resent.',
  }),
  paymentsTotalTimeoutMs: setting({
    env: 'PAYMENTS_TOTAL_TIMEOUT_MS',
    schema: envInt(100, 600_000),
    default: 30_000,
    description: 'Total time budget of one processor operation including retries (ms).',
  }),
  paymentsRateLimitPerSecond: setting({
    env: 'PAYMENTS_RATE_LIMIT_PER_SECOND',
    schema: envInt(0, 10_000),
    default: 100,
    description:
      "Processor calls per second for the account (every attempt counts; callers wait, up to 100 queued, then 429 RATE_LIMIT_QUEUE_FULL); shared by all instances when REDIS_URL is set. 0: no limit of CareBridge's own.",
  }),
  paymentsMaxAttempts: setting({
    env: 'PAYMENTS_MAX_ATTEMPTS',
    schema: envInt(1, 10),
    default: 3,
    description:
      'Attempts per processor call (first try included); writes always reuse their idempotency key.',
  }),
};

/** Feature flags of the payments area (CAREBRIDGE_FEATURE_FLAGS; the README's flag table is generated from them). */
export const paymentsFlags = {
  'payments.enabled': flag({
    default: true,
    description:
      'Kill switch of payments: off, every `/v1/payments*` and `/v1/subscriptions*` route answers 503 `FEATURE_DISABLED`. Processor webhooks are still received and the background sweep still reconciles, so nothing in flight is lost.',
  }),
};
