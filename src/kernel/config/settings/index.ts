import type { ConfigOf } from '../setting.js';
import { coreSettings } from './core.js';
import { resilienceSettings } from './resilience.js';

/**
 * The kernel's own settings (process, store, resilience, outbox, idempotency). Integrations own theirs in
 * `integrations/<name>/settings.ts`; `cli/config.ts` composes the one table CareBridge loads.
 */
export const KERNEL_SETTINGS = {
  ...coreSettings,
  ...resilienceSettings,
};

export type KernelConfig = ConfigOf<typeof KERNEL_SETTINGS>;
