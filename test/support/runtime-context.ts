import type { RuntimeContext } from '../../src/cli/components/component.js';
import { type Config, FLAGS, loadConfig } from '../../src/cli/config.js';
import { FeatureFlags } from '../../src/kernel/config/index.js';
import { createRateLimiters } from '../../src/kernel/resilience/index.js';
import type { Store } from '../../src/kernel/store/index.js';
import { createLogger, HealthRegistry, Metrics } from '../../src/kernel/telemetry/index.js';

/** A store for components that must fail before they touch one: any use throws. */
const noStore = new Proxy({} as Store, {
  get(_, prop) {
    throw new Error(`this test's component was not expected to use the store (store.${String(prop)})`);
  },
});

export interface TestRuntimeOptions {
  env?: Record<string, string>;
  config?: Partial<Record<keyof Config, unknown>>;
  store?: Store;
  wakeOutbox?: () => void;
}

/**
 * The RuntimeContext a component gets from `createRuntime`, built by hand for starting one component in a
 * test: the test profile's configuration with `env` applied (and `config` values on top, for what the
 * environment cannot say, such as another profile), a silent logger, fresh metrics and health registry,
 * every feature flag at its configured value, in-memory rate limiters.
 */
export function testRuntimeContext(opts: TestRuntimeOptions = {}): RuntimeContext {
  const base = loadConfig({ env: { CAREBRIDGE_PROFILE: 'test', ...opts.env }, cwd: '/nonexistent' });
  return {
    config: { ...base, ...opts.config } as Config,
    logger: createLogger({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    health: new HealthRegistry(),
    store: opts.store ?? noStore,
    flags: new FeatureFlags(FLAGS, base.featureFlags),
    limiters: createRateLimiters(),
    wakeOutbox: opts.wakeOutbox ?? (() => {}),
  };
}
