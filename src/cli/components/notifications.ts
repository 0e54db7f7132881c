import { notificationRoutes } from '../../gateway/index.js';
import {
  connectionUrl,
  declareTopology,
  markPublished,
  NotificationIntegration,
  RabbitConnection,
  RabbitOutboxTransport,
  type RabbitTlsOptions,
  StatusConsumer,
  supportsQuorumQueues,
} from '../../integrations/notifications/index.js';
import { ConfigError, readSettingFile } from '../../kernel/config/index.js';
import { sandboxStateDir } from '../../sandbox/common/index.js';
import { ReferenceNotificationService, startControlServer } from '../../sandbox/notifications/index.js';
import type { Config } from '../config.js';
import { clearLedger } from '../sandbox-reset.js';
import type { Component, ComponentHandle, RuntimeContext } from './component.js';

/** The broker's TLS options from RABBITMQ_CA_FILE / _CERT_FILE / _KEY_FILE / _KEY_PASSPHRASE. */
function tlsFrom(config: Config): RabbitTlsOptions {
  const ca = readSettingFile('RABBITMQ_CA_FILE', config.rabbitmqCaFile);
  const cert = readSettingFile('RABBITMQ_CERT_FILE', config.rabbitmqCertFile);
  const key = readSettingFile('RABBITMQ_KEY_FILE', config.rabbitmqKeyFile);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(config.rabbitmqKeyPassphrase ? { passphrase: config.rabbitmqKeyPassphrase } : {}),
    ...(config.tlsRejectUnauthorized === false ? { rejectUnauthorized: false } : {}),
  };
}

export interface NotificationsHandle extends ComponentHandle {
  integration: NotificationIntegration;
  connection: RabbitConnection;
  transport: RabbitOutboxTransport;
  statusConsumer: StatusConsumer;
  /** The in-process reference service (CAREBRIDGE_NOTIFICATIONS_SANDBOX=true). */
  service?: ReferenceNotificationService;
  sandboxUrl?: string;
}

/**
 * Notifications: connects to RABBITMQ_URL (declaring the topology after every connect), provides the
 * `rabbitmq:` outbox transport (publisher confirms), consumes delivery reports, serves /v1/notifications and,
 * in development/test, runs the reference notification service in-process. The gateway starts even when
 * RabbitMQ is down: sends are accepted into the outbox and readiness reports `rabbitmq` down (503 only when
 * CAREBRIDGE_NOTIFICATIONS_BROKER_REQUIRED=true).
 */
export const notificationsComponent: Component = {
  name: 'notifications',
  async start(ctx: RuntimeContext): Promise<NotificationsHandle> {
    const { config, metrics, health, store } = ctx;
    const logger = ctx.logger.child({ component: 'notifications' });
    if (config.profile === 'production' && config.notificationsSandbox && !config.allowSandbox) {
      throw new ConfigError(
        'CAREBRIDGE_NOTIFICATIONS_SANDBOX: production refuses sandbox targets (set CAREBRIDGE_ALLOW_SANDBOX=true to allow)',
      );
    }
    const tls = tlsFrom(config);
    const credentials = {
      ...(config.rabbitmqUsername ? { username: config.rabbitmqUsername } : {}),
      ...(config.rabbitmqPassword ? { password: config.rabbitmqPassword } : {}),
    };
    const retryDelaysMs = config.notificationsRetryDelaysMs;
    const connection = new RabbitConnection({
      url: config.rabbitmqUrl,
      ...credentials,
      tls,
      connectionName: 'carebridge-gateway',
      logger,
      metrics,
    });
    await connection.onConnect(async (model) => {
      const ch = await model.createChannel();
      try {
        const quorum = supportsQuorumQueues(model.connection.serverProperties.version);
        await declareTopology(ch, { retryDelaysMs, quorum });
      } finally {
        await ch.close().catch(() => {});
      }
    });
    const transport = new RabbitOutboxTransport({
      connection,
      confirmTimeoutMs: config.notificationsConfirmTimeoutMs,
      logger,
      metrics,
      onConfirmed: async (records) => {
        await markPublished(store, records);
      },
    });
    const statusConsumer = new StatusConsumer({
      connection,
      store,
      prefetch: config.notificationsPrefetch,
      logger,
      metrics,
    });
    await statusConsumer.start();
    const integration = new NotificationIntegration({ store, wakeRelay: () => ctx.wakeOutbox?.() });
    health.register({
      name: 'rabbitmq',
      required: config.notificationsBrokerRequired,
      target: config.rabbitmqUrl,
      check: () => connection.health(),
    });

    let service: ReferenceNotificationService | undefined;
    let control: Awaited<ReturnType<typeof startControlServer>> | undefined;
    if (config.notificationsSandbox) {
      service = new ReferenceNotificationService({
        url: connectionUrl({ url: config.rabbitmqUrl, ...credentials }),
        socketOptions: tls.ca || tls.cert ? { ...tls, ...(tls.ca ? { ca: [tls.ca] } : {}) } : {},
        retryDelaysMs,
        prefetch: config.notificationsPrefetch,
        // Mailbox, logs and dedupe memory kept under the data dir; a reset clears the ledger with them.
        stateDir: sandboxStateDir(config.dataDir),
        onSaveError: (err) => logger.warn({ err }, 'notifications sandbox: could not save its records'),
      });
      await service.start();
      control = await startControlServer(service, {
        port: config.notificationsSandboxPort,
        onReset: () => clearLedger(store, 'notifications'),
      });
      const svc = service;
      health.register({
        name: 'notifications-sandbox',
        required: false,
        target: control.url,
        check: () => {
          if (svc.isConnected) return { status: 'up', detail: 'reference notification service consuming' };
          // While the broker is still answering (or answers the gateway), this one is about to connect too.
          const broker = connection.health();
          const pending = broker.pending || broker.status === 'up';
          return { status: 'down', detail: 'waiting for RabbitMQ', ...(pending ? { pending } : {}) };
        },
      });
      logger.info(
        { url: control.url },
        'reference notification service started (GET /_sandbox/state shows the mailbox)',
      );
    }

    return {
      routes: [notificationRoutes(integration)],
      outboxTransports: [{ prefix: 'rabbitmq:', transport }],
      integration,
      connection,
      transport,
      statusConsumer,
      ...(service ? { service } : {}),
      ...(control
        ? { sandboxUrl: control.url, sandboxes: [{ name: 'notifications', url: control.url }] }
        : {}),
      async stop() {
        await statusConsumer.stop();
        await transport.close();
        await control?.close();
        await service?.stop();
        await connection.close();
        health.unregister('rabbitmq');
        if (control) health.unregister('notifications-sandbox');
      },
    };
  },
};
