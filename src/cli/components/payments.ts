import type { Server } from 'node:http';
import { paymentRoutes, paymentWebhookRoutes, type RouteModule } from '../../gateway/index.js';
import { PaymentIntegration, PaymentWebhookProcessor } from '../../integrations/payments/index.js';
import { ConfigError } from '../../kernel/config/index.js';
import { RetryBudget } from '../../kernel/resilience/index.js';
import { sandboxStateDir } from '../../sandbox/common/index.js';
import { createPaymentsSandbox, type PaymentsSandbox } from '../../sandbox/payments/index.js';
import { clearLedger } from '../sandbox-reset.js';
import type { Component, ComponentHandle, RuntimeContext } from './component.js';

export interface PaymentsHandle extends ComponentHandle {
  integration: PaymentIntegration;
  webhooks: PaymentWebhookProcessor;
  /** The in-process processor simulator (PAYMENTS_BASE_URL=sandbox). */
  sandbox?: PaymentsSandbox;
}

const SWEEP_INTERVAL_MS = 5_000;

/** Where this gateway answers, read when a webhook is delivered (the port is known only after listen). */
function ownWebhookUrl(server: () => Server | undefined): () => string | undefined {
  return () => {
    const addr = server()?.address();
    if (!addr || typeof addr !== 'object') return undefined;
    const host =
      addr.address === '0.0.0.0' || addr.address === '::'
        ? '127.0.0.1'
        : addr.address.includes(':')
          ? `[${addr.address}]`
          : addr.address;
    return `http://${host}:${addr.port}/webhooks/payments`;
  };
}

/**
 * Payments: with PAYMENTS_BASE_URL=sandbox it starts the processor simulator in-process (its API key and
 * secrets are this config's, and it delivers webhooks to this gateway's `/webhooks/payments`, or to
 * PAYMENTS_WEBHOOK_URL), builds PaymentIntegration, registers the `payments` readiness check (optional:
 * payments being down degrades, never kills, the gateway), sweeps unapplied webhook events and unresolved
 * payments every few seconds, and serves the payment routes and the webhook receiver.
 */
export const paymentsComponent: Component = {
  name: 'payments',
  async start(ctx: RuntimeContext): Promise<PaymentsHandle> {
    const { config, metrics, health, store } = ctx;
    const logger = ctx.logger.child({ component: 'payments' });
    let baseUrl = config.paymentsBaseUrl;
    let sandbox: PaymentsSandbox | undefined;
    let gatewayServer: Server | undefined;
    if (baseUrl === 'sandbox') {
      if (config.profile === 'production' && !config.allowSandbox) {
        throw new ConfigError(
          'PAYMENTS_BASE_URL: production refuses sandbox targets (set CAREBRIDGE_ALLOW_SANDBOX=true to allow)',
        );
      }
      const webhookUrl = config.paymentsWebhookUrl ?? ownWebhookUrl(() => gatewayServer);
      sandbox = await createPaymentsSandbox({
        apiKeys: [{ apiKey: config.paymentsApiKey, secrets: config.paymentsApiSecrets }],
        webhookEndpoints: [{ url: webhookUrl, secrets: config.paymentsWebhookSecrets }],
        logger: ctx.logger.child({ component: 'payments-sandbox' }),
        // Records kept under the data dir (a restart keeps them); a reset clears the ledger with them.
        stateDir: sandboxStateDir(config.dataDir),
        onReset: () => clearLedger(store, 'payments'),
      });
      baseUrl = await sandbox.listen();
      logger.info({ url: baseUrl }, 'payments sandbox listening');
    }
    const integration = new PaymentIntegration({
      baseUrl,
      apiKey: config.paymentsApiKey,
      apiSecrets: config.paymentsApiSecrets,
      webhookSecrets: config.paymentsWebhookSecrets,
      webhookToleranceSeconds: config.paymentsWebhookToleranceSeconds,
      store,
      metrics,
      logger,
      health,
      maxAttempts: config.paymentsMaxAttempts,
      attemptTimeoutMs: config.paymentsAttemptTimeoutMs,
      totalTimeoutMs: config.paymentsTotalTimeoutMs,
      // Retries across all payment operations stay a bounded share of traffic (no retry storms).
      retryBudget: new RetryBudget({
        ratio: config.retryBudgetRatio,
        minPerSecond: config.retryBudgetMinPerSecond,
      }),
      // One bucket per processor account (the API key id is public), shared by every instance with REDIS_URL.
      ...(config.paymentsRateLimitPerSecond > 0
        ? {
            rateLimiter: ctx.limiters.bucket(`payments:${config.paymentsApiKey}`, {
              ratePerSecond: config.paymentsRateLimitPerSecond,
            }),
          }
        : {}),
    });
    const webhooks = new PaymentWebhookProcessor(store, integration, logger);
    health.register({
      name: 'payments',
      required: false,
      target: baseUrl,
      check: async () => {
        await integration.ping();
        return { status: 'up', detail: sandbox ? 'sandbox' : 'processor' };
      },
    });

    let sweeping = false;
    const sweep = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      Promise.all([webhooks.processPending(), integration.reconcileStale()])
        .catch((err) => logger.warn({ err }, 'payments sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    }, SWEEP_INTERVAL_MS);
    sweep.unref();

    const hooks = paymentWebhookRoutes(webhooks);
    const webhookModule: RouteModule = {
      ...hooks,
      register(app, deps) {
        gatewayServer = app.server;
        return hooks.register(app, deps);
      },
    };
    return {
      integration,
      webhooks,
      ...(sandbox ? { sandbox, sandboxes: [{ name: 'payments', url: baseUrl }] } : {}),
      routes: [paymentRoutes(integration), webhookModule],
      async stop() {
        clearInterval(sweep);
        health.unregister('payments');
        sandbox?.webhooks.close();
        await webhooks.idle();
        await integration.close();
        await sandbox?.close();
      },
    };
  },
};
