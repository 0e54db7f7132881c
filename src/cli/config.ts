import { gatewaySettings } from '../gateway/index.js';
import { notificationsSettings } from '../integrations/notifications/index.js';
import { paymentsSettings } from '../integrations/payments/index.js';
import { usersSettings } from '../integrations/users/index.js';
import {
  type ConfigOf,
  describeSettings,
  KERNEL_SETTINGS,
  type LoadOptions,
  loadSettings,
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

/** The whole validated configuration; components read their own area's keys from it. */
export type Config = ConfigOf<typeof SETTINGS>;

/** Loads and validates every setting once (environment > per-profile file > default). */
export function loadConfig(opts: LoadOptions = {}): Config {
  return loadSettings(SETTINGS, opts);
}

/** The effective configuration with every secret masked (`carebridge config`). */
export function describeConfig(config: Config): Record<string, unknown> {
  return describeSettings(SETTINGS, config);
}
