import { notificationsMigrations } from '../integrations/notifications/index.js';
import { paymentsMigrations } from '../integrations/payments/index.js';
import { KERNEL_MIGRATIONS, type Migration } from '../kernel/store/index.js';
import { usersSandboxMigrations } from '../sandbox/users/index.js';

/**
 * Every migration `carebridge migrate` (and CAREBRIDGE_MIGRATE_ON_START) applies: the kernel's tables, then each
 * area's own `migrations.ts` in its number range: 001–009 kernel, 010 payments, 020 users, 030 notifications,
 * 040 insurance, 050 shipping, 060 analytics. The users range creates the reference user service's tables
 * (src/sandbox/users): the gateway itself keeps no users.
 */
export const MIGRATIONS: readonly Migration[] = [
  ...KERNEL_MIGRATIONS,
  ...paymentsMigrations,
  ...usersSandboxMigrations,
  ...notificationsMigrations,
];
