import { type Config, FLAGS, loadConfig } from '../../src/cli/config.js';
import { MIGRATIONS } from '../../src/cli/migrations.js';
import { type BuiltApp, buildApp } from '../../src/gateway/app.js';
import type { Authenticator, GatewayDeps, RouteModule } from '../../src/gateway/types.js';
import { FeatureFlags } from '../../src/kernel/config/flags.js';
import { createRateLimiters, type RateLimiters } from '../../src/kernel/resilience/index.js';
import { migrate } from '../../src/kernel/store/migrate.js';
import { PgliteStore } from '../../src/kernel/store/pglite-store.js';
import type { Store } from '../../src/kernel/store/store.js';
import { createLogger, HealthRegistry, type Logger, Metrics } from '../../src/kernel/telemetry/index.js';

/** An authenticator that lets everyone in as `test-admin`, for tests of things other than access control. */
export const allowAll: Authenticator = {
  async authenticate() {
    return { subject: 'test-admin', kind: 'user', roles: ['admin'] };
  },
  async authorize() {
    return true;
  },
};

export interface TestGateway extends BuiltApp {
  deps: GatewayDeps;
  store: Store;
  close(): Promise<void>;
}

/** The gateway shell over an in-memory PGlite store, with the given route modules and settings. */
export async function buildTestGateway(
  opts: {
    routes?: RouteModule[];
    authenticator?: Authenticator;
    env?: Record<string, string>;
    store?: Store;
    config?: Config;
    /** Default: silent. */
    logger?: Logger;
    /** Default: in memory (per instance), as without REDIS_URL. */
    limiters?: RateLimiters;
    /** Default: every flag CareBridge declares, switched as the configuration's CAREBRIDGE_FEATURE_FLAGS says. */
    flags?: FeatureFlags;
  } = {},
): Promise<TestGateway> {
  const config =
    opts.config ?? loadConfig({ env: { CAREBRIDGE_PROFILE: 'test', ...opts.env }, cwd: '/nonexistent' });
  const store = opts.store ?? (await PgliteStore.open('memory://'));
  if (!opts.store) await migrate(store, MIGRATIONS);
  const deps: GatewayDeps = {
    config,
    logger: opts.logger ?? createLogger({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    health: new HealthRegistry(),
    store,
    flags: opts.flags ?? new FeatureFlags(FLAGS, config.featureFlags),
    limiters: opts.limiters ?? createRateLimiters(),
    routes: opts.routes,
    authenticator: opts.authenticator,
  };
  const built = await buildApp(deps);
  return {
    ...built,
    deps,
    store,
    async close() {
      await built.app.close();
      if (!opts.store) await store.close();
    },
  };
}
