import type { Server } from 'node:http';
import { paymentRoutes } from '../../src/gateway/routes/payments.js';
import { paymentWebhookRoutes } from '../../src/gateway/webhooks/payments.js';
import {
  PaymentIntegration,
  type PaymentIntegrationOptions,
  PaymentWebhookInbox,
} from '../../src/integrations/payments/index.js';
import type { Store } from '../../src/kernel/store/store.js';
import { createLogger, Metrics } from '../../src/kernel/telemetry/index.js';
import {
  createPaymentsSandbox,
  type PaymentsSandbox,
  type PaymentsSandboxOptions,
} from '../../src/sandbox/payments/index.js';
import { allowAll, buildTestGateway, type TestGateway } from '../support/app.js';

export const API_KEY = 'pk_test_harness';
export const API_SECRETS = ['sk_test_harness_secret_1'];
export const WEBHOOK_SECRETS = ['whsec_harness_secret_1'];

export interface PaymentsHarness {
  sandbox: PaymentsSandbox;
  gateway: TestGateway;
  payments: PaymentIntegration;
  webhooks: PaymentWebhookInbox;
  gatewayUrl: string;
  /** Calls the gateway (in-process inject), JSON in and out. */
  api(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: any }>;
  /** Waits until the sandbox has delivered everything and the gateway has applied it. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** The payments sandbox over HTTP, PaymentIntegration, and a gateway (allow-all auth) listening on port 0. */
export async function startHarness(
  opts: {
    sandbox?: PaymentsSandboxOptions;
    integration?: Partial<PaymentIntegrationOptions>;
    webhooks?: boolean;
    store?: Store;
  } = {},
): Promise<PaymentsHarness> {
  let server: Server | undefined;
  const sandbox = await createPaymentsSandbox({
    apiKeys: [{ apiKey: API_KEY, secrets: API_SECRETS }],
    webhookEndpoints:
      opts.webhooks === false
        ? []
        : [
            {
              url: () => {
                const a = server?.address();
                return a && typeof a === 'object'
                  ? `http://127.0.0.1:${a.port}/webhooks/payments`
                  : undefined;
              },
              secrets: WEBHOOK_SECRETS,
            },
          ],
    webhooks: { retryDelaysMs: [50, 100, 200, 400] },
    ...opts.sandbox,
  });
  await sandbox.listen();
  const logger = createLogger({ level: 'silent' });
  const metrics = new Metrics({ defaultMetrics: false });
  let payments: PaymentIntegration | undefined;
  let webhooks: PaymentWebhookInbox | undefined;
  const gateway = await buildTestGateway({
    authenticator: allowAll,
    ...(opts.store ? { store: opts.store } : {}),
    // Tests drive far more requests per minute than one real caller; the per-caller limit is not under test.
    env: { CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '1000000' },
    routes: [
      {
        name: 'payments-lazy',
        register: (app, deps) => {
          payments = new PaymentIntegration({
            baseUrl: sandbox.url,
            apiKey: API_KEY,
            apiSecrets: API_SECRETS,
            webhookSecrets: WEBHOOK_SECRETS,
            store: deps.store,
            metrics,
            logger,
            attemptTimeoutMs: 2000,
            totalTimeoutMs: 8000,
            ...opts.integration,
          });
          webhooks = new PaymentWebhookInbox(deps.store, payments, logger);
          return paymentRoutes(payments).register(app, deps);
        },
      },
      {
        name: 'payments-webhooks',
        prefix: '/webhooks',
        register: (app, deps) => {
          server = app.server;
          return paymentWebhookRoutes(webhooks!).register(app, deps);
        },
      },
    ],
  });
  const gatewayUrl = await gateway.app.listen({ host: '127.0.0.1', port: 0 });
  return {
    sandbox,
    gateway,
    payments: payments!,
    webhooks: webhooks!,
    gatewayUrl,
    async api(method, url, body, headers = {}) {
      const res = await gateway.app.inject({
        method: method as 'GET',
        url,
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return {
        status: res.statusCode,
        headers: res.headers,
        body: res.body ? JSON.parse(res.body) : undefined,
      };
    },
    async settle() {
      for (let i = 0; i < 5; i++) {
        await sandbox.webhooks.idle();
        await webhooks!.idle();
      }
    },
    async close() {
      sandbox.webhooks.close();
      await webhooks!.idle();
      await payments!.close();
      await gateway.close();
      await sandbox.close();
    },
  };
}
