import { coreSettings } from './core.js';
import { notificationsSettings } from './notifications.js';
import { paymentsSettings } from './payments.js';
import { resilienceSettings } from './resilience.js';
import { usersSettings } from './users.js';

/** Every setting CareBridge knows. A name not in this table is refused at start-up. */
export const SETTINGS = {
  ...coreSettings,
  ...resilienceSettings,
  ...paymentsSettings,
  ...usersSettings,
  ...notificationsSettings,
};
