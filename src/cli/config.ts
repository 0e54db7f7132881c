import { gatewaySettings } from '../gateway/index.js';
import { notificationsFlags, notificationsSettings } from '../integrations/notifications/index.js';
import { paymentsFlags, paymentsSettings } from '../integrations/payments/index.js';
import { usersSettings } from '../integrations/users/index.js';
import {
  type ConfigOf,
  describeSettings,
  type FlagTable,
  KERNEL_SETTINGS,
  type LoadOptions,
  loadSettings,
  resolveFlags,
} from '../kernel/config/index.js';

/**
 * Every setting CareBridge knows: the kernel's, the gateway's and each integration's own (each area owns its
 * `settings.ts`). A name not in this table is refused at start-up; the README's table is generated from it.
 */
export const SETTINGS = {
  ...KERNEL_SETTINGS,
  ...gatewaySettings,
  ...paymentsSettings,
  ...usersSettings,
  ...notificationsSettings,
};

/**
 * Every feature flag CareBridge knows, each area's own (`<name>Flags` next to its settings). CAREBRIDGE_FEATURE_FLAGS
 * may switch only these; the README's flag table is generated from it. Routes name theirs in `config.flag`.
 */
export const FLAGS: FlagTable = {
  ...paymentsFlags,
  ...notificationsFlags,
};

/** The whole validated configuration; components read their own area's keys from it. */
export type Config = ConfigOf<typeof SETTINGS>;

/**
 * Loads and validates every setting once (environment > per-profile file > default), the flag names in
 * CAREBRIDGE_FEATURE_FLAGS included.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const config = loadSettings(SETTINGS, opts);
  resolveFlags(FLAGS, config.featureFlags);
  return config;
}

/** The effective configuration with every secret masked, and each feature flag's value (`carebridge config`). */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...describeSettings(SETTINGS, config),
    featureFlags: resolveFlags(FLAGS, config.featureFlags).values,
  };
}
