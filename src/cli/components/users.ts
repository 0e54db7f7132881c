import { exportJWK, generateKeyPair } from 'jose';
import { authRoutes, JwksCache, TokenAuthenticator, usersRoutes } from '../../gateway/index.js';
import {
  type ServiceAccountCredentials,
  UserServiceIntegration,
  type UsersTlsOptions,
} from '../../integrations/users/index.js';
import { ConfigError, readSettingFile } from '../../kernel/config/index.js';
import { GATEWAY_SCOPES } from '../../protocols/proto/index.js';
import { sandboxStateDir } from '../../sandbox/common/index.js';
import { startUserService, type UserServiceSandbox } from '../../sandbox/users/index.js';
import type { Config } from '../config.js';
import type { Component, RuntimeContext } from './component.js';

/** The test profile hashes the seeded passwords cheaply so every test runtime starts fast. */
export const TEST_SCRYPT_COST = { N: 1024, r: 8, p: 1 };

function tlsFrom(config: Config): UsersTlsOptions | false {
  if (!config.usersTls) {
    if (config.profile === 'production' && !config.allowInsecureTransport) {
      throw new ConfigError(
        'USERS_TLS: production refuses plain-text gRPC (set USERS_TLS=true, or CAREBRIDGE_ALLOW_INSECURE_TRANSPORT=true)',
      );
    }
    return false;
  }
  const tls: UsersTlsOptions = {};
  const ca = readSettingFile('USERS_TLS_CA_FILE', config.usersTlsCaFile);
  const cert = readSettingFile('USERS_TLS_CERT_FILE', config.usersTlsCertFile);
  const key = readSettingFile('USERS_TLS_KEY_FILE', config.usersTlsKeyFile);
  if ((cert === undefined) !== (key === undefined))
    throw new ConfigError('USERS_TLS_CERT_FILE and USERS_TLS_KEY_FILE go together (mTLS)');
  if (ca) tls.ca = ca;
  if (cert && key) Object.assign(tls, { cert, key });
  if (config.usersTlsServerName) tls.serverName = config.usersTlsServerName;
  return tls;
}

/** With USERS_TARGET=sandbox: the reference user service on loopback and a fresh gateway service account. */
async function startSandbox(
  ctx: RuntimeContext,
): Promise<{ sandbox: UserServiceSandbox; account: ServiceAccountCredentials }> {
  const { config } = ctx;
  const sandbox = await startUserService({
    store: ctx.store,
    logger: ctx.logger.child({ component: 'users-sandbox' }),
    host: '127.0.0.1',
    port: config.usersSandboxPort,
    issuer: config.usersTokenIssuer,
    audience: config.usersTokenAudience,
    tokenTtlSeconds: config.usersSandboxTokenTtlSeconds,
    // Signing keys kept under the data dir: tokens issued before a restart still verify after it.
    stateDir: sandboxStateDir(config.dataDir),
    lockout: {
      threshold: config.usersSandboxLockoutThreshold,
      lockSeconds: config.usersSandboxLockoutSeconds,
    },
    ...(config.profile !== 'production' && config.devAdminPassword
      ? { devPassword: config.devAdminPassword }
      : {}),
    ...(config.profile === 'test' ? { scryptCost: TEST_SCRYPT_COST } : {}),
  });
  // The key pair lives only in this process: the public half is registered with the service, the
  // private half signs the gateway's per-call JWTs.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  await sandbox.registerServiceAccount(
    config.usersServiceAccountId,
    { ...(await exportJWK(publicKey)), alg: 'ES256' },
    GATEWAY_SCOPES,
  );
  return { sandbox, account: { id: config.usersServiceAccountId, privateKey } };
}

/**
 * Identity: the user service client, the gateway's authenticator (tokens verified locally against the
 * cached JWKS, permissions from the service, fail closed), POST /v1/auth/token and the users routes.
 */
export const usersComponent: Component = {
  name: 'users',
  async start(ctx) {
    const { config, logger, metrics, health } = ctx;
    let sandbox: UserServiceSandbox | undefined;
    let target = config.usersTarget;
    let account: ServiceAccountCredentials;
    let tls: UsersTlsOptions | false;
    if (target === 'sandbox') {
      ({ sandbox, account } = await startSandbox(ctx));
      target = sandbox.address;
      tls = false;
    } else {
      if (!config.usersServiceAccountKey)
        throw new ConfigError('USERS_SERVICE_ACCOUNT_KEY: required when USERS_TARGET is not sandbox');
      account = { id: config.usersServiceAccountId, privateKey: config.usersServiceAccountKey };
      tls = tlsFrom(config);
    }
    const integration = new UserServiceIntegration({
      target,
      tls,
      serviceAccount: account,
      deadlineMs: config.usersDeadlineMs,
      signIn: {
        deadlineMs: config.usersSignInDeadlineMs,
        maxConcurrent: config.usersSignInMaxConcurrent,
        maxQueued: config.usersSignInMaxQueued,
      },
      maxAttempts: config.usersMaxAttempts,
      keepaliveMs: config.usersKeepaliveMs,
      permissionCache: { ttlMs: config.usersPermissionCacheTtlMs, max: config.usersPermissionCacheMax },
      health,
      metrics,
      logger: logger.child({ integration: 'users' }),
    });
    health.register({
      name: 'users',
      required: true,
      target: `grpc://${target.replace(/^dns:\/\/\//, '')}`,
      check: () => integration.checkHealth(),
    });
    const jwks = new JwksCache({ fetch: () => integration.getJwks(), ttlMs: config.usersJwksCacheMs });
    await jwks
      .refresh(false)
      .catch((err) =>
        logger.warn({ err }, 'user service key set not fetched yet; will retry on first request'),
      );
    const authenticator = new TokenAuthenticator({
      jwks,
      decider: integration,
      issuer: config.usersTokenIssuer,
      audience: config.usersTokenAudience,
    });
    return {
      authenticator,
      routes: [authRoutes(integration), usersRoutes(integration)],
      ...(sandbox ? { sandboxes: [{ name: 'users', url: `grpc://${sandbox.address}` }] } : {}),
      async stop() {
        health.unregister('users');
        integration.close();
        await sandbox?.stop();
      },
    };
  },
};
