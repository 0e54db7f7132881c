import { type CryptoKey, exportJWK, generateKeyPair } from 'jose';
import { MIGRATIONS } from '../../src/cli/migrations.js';
import {
  type PermissionCacheOptions,
  type SignInOptions,
  UserServiceIntegration,
  type UsersTlsOptions,
} from '../../src/integrations/users/index.js';
import { migrate } from '../../src/kernel/store/migrate.js';
import { PgliteStore } from '../../src/kernel/store/pglite-store.js';
import type { Store } from '../../src/kernel/store/store.js';
import { createLogger, type Logger, Metrics } from '../../src/kernel/telemetry/index.js';
import { GATEWAY_SCOPES, type Scope } from '../../src/protocols/proto/index.js';
import {
  startUserService,
  type UserServiceSandbox,
  type UserServiceTls,
} from '../../src/sandbox/users/index.js';

export const DEV_PASSWORD = 'test-dev-password';
export const ISSUER = 'carebridge-users';
export const AUDIENCE = 'carebridge-gateway';

export interface UsersHarness {
  store: Store;
  sandbox: UserServiceSandbox;
  metrics: Metrics;
  /** A new client of the sandbox (closed by stop()). */
  client(opts?: {
    tls?: UsersTlsOptions | false;
    deadlineMs?: number;
    maxAttempts?: number;
    account?: string;
    key?: CryptoKey;
    target?: string;
    permissionCache?: PermissionCacheOptions;
    signIn?: SignInOptions;
    /** Default: silent. */
    logger?: Logger;
  }): UserServiceIntegration;
  /** Registers a service account with `scopes` and returns its private key. */
  addAccount(id: string, scopes: Scope[]): Promise<CryptoKey>;
  stop(): Promise<void>;
}

/** A PGlite store, the reference user service on loopback and a registered `svc_gateway` account. */
export async function startUsersHarness(
  opts: { tls?: UserServiceTls; now?: () => Date; tokenTtlSeconds?: number; store?: Store } = {},
): Promise<UsersHarness> {
  // Opening PGlite compiles its wasm (seconds on a loaded machine): suites with several services share one.
  const store = opts.store ?? (await PgliteStore.open('memory://'));
  if (!opts.store) await migrate(store, MIGRATIONS);
  const logger = createLogger({ level: 'silent' });
  const sandbox = await startUserService({
    store,
    logger,
    issuer: ISSUER,
    audience: AUDIENCE,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 900,
    lockout: { threshold: 3, lockSeconds: 600 },
    devPassword: DEV_PASSWORD,
    scryptCost: { N: 1024, r: 8, p: 1 },
    ...(opts.tls ? { tls: opts.tls } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  const metrics = new Metrics({ defaultMetrics: false });
  const clients: UserServiceIntegration[] = [];
  const addAccount = async (id: string, scopes: Scope[]) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    await sandbox.registerServiceAccount(id, { ...(await exportJWK(publicKey)), alg: 'ES256' }, scopes);
    return privateKey;
  };
  const gatewayKey = await addAccount('svc_gateway', GATEWAY_SCOPES);
  return {
    store,
    sandbox,
    metrics,
    addAccount,
    client(o = {}) {
      const c = new UserServiceIntegration({
        target: o.target ?? sandbox.address,
        tls: o.tls ?? false,
        serviceAccount: { id: o.account ?? 'svc_gateway', privateKey: o.key ?? gatewayKey },
        deadlineMs: o.deadlineMs ?? 2_000,
        maxAttempts: o.maxAttempts ?? 3,
        ...(o.permissionCache ? { permissionCache: o.permissionCache } : {}),
        ...(o.signIn ? { signIn: o.signIn } : {}),
        metrics,
        logger: o.logger ?? logger,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.close();
      await sandbox.stop();
      if (!opts.store) await store.close();
    },
  };
}
