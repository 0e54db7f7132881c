import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectionUrl } from '../integrations/notifications/index.js';
import { ConfigError } from '../kernel/config/index.js';
import { migrate, openStore } from '../kernel/store/index.js';
import { createLogger } from '../kernel/telemetry/index.js';
import { GATEWAY_SCOPES } from '../protocols/proto/index.js';
import { ReferenceNotificationService, startControlServer } from '../sandbox/notifications/index.js';
import { createPaymentsSandbox } from '../sandbox/payments/index.js';
import { startUserService } from '../sandbox/users/index.js';
import { TEST_SCRYPT_COST } from './components/users.js';
import type { Config } from './config.js';
import { MIGRATIONS } from './migrations.js';

export const SANDBOX_NAMES = ['payments', 'users', 'notifications'] as const;
export type SandboxName = (typeof SANDBOX_NAMES)[number];

export interface ServeSandboxOptions {
  name: SandboxName;
  /** Default 127.0.0.1. */
  host: string;
  /** Default: the sandbox's port setting (USERS_SANDBOX_PORT, CAREBRIDGE_NOTIFICATIONS_SANDBOX_PORT), else any free one. */
  port?: number;
  /** Where it keeps its records across restarts (one process per folder); unset: memory only. */
  stateDir?: string;
}

const USAGE =
  'carebridge sandbox <payments|users|notifications> [--port <n>] [--host <address>] [--state-dir <folder>]';

/** `sandbox payments --port 4010 --state-dir ./sb` → options; a RangeError (exit 2) names what is wrong. */
export function parseSandboxArgs(args: string[]): ServeSandboxOptions {
  const [name, ...rest] = args;
  if (!SANDBOX_NAMES.includes(name as SandboxName))
    throw new RangeError(
      `carebridge sandbox: unknown sandbox "${name ?? ''}" (usage: ${USAGE}, or carebridge sandbox reset)`,
    );
  const opts: ServeSandboxOptions = { name: name as SandboxName, host: '127.0.0.1' };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined || value.startsWith('--'))
      throw new RangeError(`carebridge sandbox: ${flag} needs a value (usage: ${USAGE})`);
    if (flag === '--port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65_535)
        throw new RangeError(`carebridge sandbox: --port must be 0–65535, got "${value}"`);
      opts.port = port;
    } else if (flag === '--host') opts.host = value;
    else if (flag === '--state-dir') opts.stateDir = path.resolve(value);
    else throw new RangeError(`carebridge sandbox: unknown option "${flag}" (usage: ${USAGE})`);
  }
  return opts;
}

export interface ServedSandbox {
  /** Where it answers: an http:// URL (payments, the notifications control routes) or host:port (users, gRPC). */
  address: string;
  /** Settings the gateway needs to use it, one `NAME=value` each. */
  gatewaySettings: string[];
  stop(): Promise<void>;
}

/**
 * Starts ONE sandbox as this process's only job, on a port of its own: what production-like tests, the
 * gateway benchmark and operators use instead of the in-process sandboxes of `carebridge start`. It takes its
 * credentials from the same settings the gateway reads (PAYMENTS_API_KEY / _SECRETS / _WEBHOOK_URL /
 * _WEBHOOK_SECRETS, USERS_TOKEN_ISSUER / _AUDIENCE / _SERVICE_ACCOUNT_ID / _SERVICE_ACCOUNT_KEY, RABBITMQ_*), so
 * one environment serves both processes.
 */
export async function serveSandbox(config: Config, opts: ServeSandboxOptions): Promise<ServedSandbox> {
  if (config.profile === 'production' && !config.allowSandbox)
    throw new ConfigError(
      'carebridge sandbox: production refuses sandboxes (set CAREBRIDGE_ALLOW_SANDBOX=true to allow)',
    );
  const logger = createLogger({ level: config.logLevel, destination: process.stderr }).child({
    component: `${opts.name}-sandbox`,
  });
  const { host } = opts;
  switch (opts.name) {
    case 'payments': {
      const sandbox = await createPaymentsSandbox({
        apiKeys: [{ apiKey: config.paymentsApiKey, secrets: config.paymentsApiSecrets }],
        webhookEndpoints: config.paymentsWebhookUrl
          ? [{ url: config.paymentsWebhookUrl, secrets: config.paymentsWebhookSecrets }]
          : [],
        logger,
        host,
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
      });
      const url = await sandbox.listen();
      return { address: url, gatewaySettings: [`PAYMENTS_BASE_URL=${url}`], stop: () => sandbox.close() };
    }
    case 'users': {
      // The user service's own store: PGlite under the state folder, or in memory.
      const store = await openStore({
        dataDir: opts.stateDir ? path.join(opts.stateDir, 'users-store') : 'memory://',
      });
      try {
        await migrate(store, MIGRATIONS);
        const sandbox = await startUserService({
          store,
          logger,
          host,
          port: opts.port ?? config.usersSandboxPort,
          issuer: config.usersTokenIssuer,
          audience: config.usersTokenAudience,
          tokenTtlSeconds: config.usersSandboxTokenTtlSeconds,
          lockout: {
            threshold: config.usersSandboxLockoutThreshold,
            lockSeconds: config.usersSandboxLockoutSeconds,
          },
          ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
          ...(config.profile === 'test' ? { scryptCost: TEST_SCRYPT_COST } : {}),
          ...(config.profile !== 'production' && config.devAdminPassword
            ? { devPassword: config.devAdminPassword }
            : {}),
        });
        const key = serviceAccountKey(config);
        await sandbox.registerServiceAccount(
          config.usersServiceAccountId,
          { ...createPublicKey(key.privateKey).export({ format: 'jwk' }), alg: 'ES256' },
          GATEWAY_SCOPES,
        );
        return {
          address: sandbox.address,
          gatewaySettings: [
            `USERS_TARGET=${sandbox.address}`,
            `USERS_SERVICE_ACCOUNT_ID=${config.usersServiceAccountId}`,
            key.file
              ? `USERS_SERVICE_ACCOUNT_KEY_FILE=${key.file}`
              : 'USERS_SERVICE_ACCOUNT_KEY=(as set here)',
            ...(config.profile !== 'production'
              ? ['CAREBRIDGE_ALLOW_INSECURE_TRANSPORT=true (no TLS here)']
              : []),
          ],
          async stop() {
            await sandbox.stop();
            await store.close();
            if (key.file) rmSync(key.file, { force: true });
          },
        };
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    case 'notifications': {
      const credentials = {
        ...(config.rabbitmqUsername ? { username: config.rabbitmqUsername } : {}),
        ...(config.rabbitmqPassword ? { password: config.rabbitmqPassword } : {}),
      };
      const service = new ReferenceNotificationService({
        url: connectionUrl({ url: config.rabbitmqUrl, ...credentials }),
        retryDelaysMs: config.notificationsRetryDelaysMs,
        prefetch: config.notificationsPrefetch,
        ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
        onSaveError: (err) => logger.warn({ err }, 'notifications sandbox: could not save its records'),
      });
      await service.start();
      const control = await startControlServer(service, {
        host,
        port: opts.port ?? config.notificationsSandboxPort,
      });
      return {
        address: control.url,
        gatewaySettings: [
          'CAREBRIDGE_NOTIFICATIONS_SANDBOX=false',
          `RABBITMQ_URL=(the same broker and vhost)`,
        ],
        async stop() {
          await control.close();
          await service.stop();
        },
      };
    }
  }
}

/**
 * The gateway's service-account key: USERS_SERVICE_ACCOUNT_KEY when set (its public half is registered), else a
 * new P-256 key written (0600) to a file the gateway is then pointed at with USERS_SERVICE_ACCOUNT_KEY_FILE.
 */
function serviceAccountKey(config: Config): {
  privateKey: ReturnType<typeof createPrivateKey>;
  file?: string;
} {
  if (config.usersServiceAccountKey) return { privateKey: createPrivateKey(config.usersServiceAccountKey) };
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const file = path.join(tmpdir(), `carebridge-${config.usersServiceAccountId}-${process.pid}.pem`);
  writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  return { privateKey, file };
}

/** `carebridge sandbox <name> …`: serves until SIGTERM/SIGINT, printing its address and the gateway's settings. */
export async function runSandboxCommand(
  config: Config,
  args: string[],
  out: NodeJS.WritableStream,
): Promise<number> {
  const served = await serveSandbox(config, parseSandboxArgs(args));
  // One write: a script reading the first chunk gets the address and the settings together.
  out.write(
    [
      `${args[0]} sandbox listening on ${served.address}`,
      ...served.gatewaySettings.map((s) => `  gateway: ${s}`),
    ]
      .map((l) => `${l}\n`)
      .join(''),
  );
  return new Promise<number>((resolve) => {
    const onSignal = () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      served.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
