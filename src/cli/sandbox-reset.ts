import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../kernel/config/index.js';
import { openStore, type Store } from '../kernel/store/index.js';
import { acquireStateDir, clearStateDir, sandboxStateDir } from '../sandbox/common/index.js';
import type { Config } from './config.js';

/** Integrations whose counterpart can be an in-process sandbox. */
export type SandboxedIntegration = 'users' | 'payments' | 'notifications';

interface LedgerPart {
  table: string;
  /** Default `DELETE FROM <table>` (with `where`, only those rows: kernel tables are shared). */
  sql?: string;
  where?: string;
}

/**
 * What the gateway keeps about each sandbox's records. The sandbox and these rows are cleared together:
 * a ledger that remembers a payment its processor forgot answers 404 to every refund of it, and a processor
 * that remembers charges the ledger forgot replays them under reused idempotency keys. Order respects the
 * foreign keys. The audit log stays (it records who did what, not counterpart state).
 */
const LEDGERS: Record<SandboxedIntegration, LedgerPart[]> = {
  users: [
    // The user sandbox keeps its records in the store itself; start-up seeds the roles and users again.
    { table: 'um_user_roles' },
    { table: 'um_users' },
    { table: 'um_roles' },
    { table: 'um_login_failures' },
    { table: 'um_service_accounts' },
    // Bumped, not reset: a permission decision cached under an old revision must not be taken as current.
    { table: 'um_revision', sql: 'UPDATE um_revision SET revision = revision + 1' },
  ],
  payments: [
    { table: 'payment_refunds' },
    { table: 'payments' },
    { table: 'payment_subscriptions' },
    { table: 'webhook_events', where: "provider = 'payments'" },
    {
      table: 'idempotency_keys',
      where: "scope LIKE 'payments.%' OR scope LIKE 'refunds.%' OR scope LIKE 'subscriptions.%'",
    },
  ],
  notifications: [
    { table: 'notification_events' },
    { table: 'notifications' },
    { table: 'outbox', where: "destination LIKE 'rabbitmq:%'" },
    { table: 'idempotency_keys', where: "scope LIKE 'notifications.%'" },
  ],
};

/** Deletes the ledger rows of `integrations` in one transaction (tables not created yet are skipped). */
export async function clearLedger(
  store: Store,
  ...integrations: [SandboxedIntegration, ...SandboxedIntegration[]]
): Promise<void> {
  await store.transaction(async (tx) => {
    for (const part of integrations.flatMap((i) => LEDGERS[i])) {
      const { rows } = await tx.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
        part.table,
      ]);
      if (!rows[0]?.t) continue;
      await tx.query(part.sql ?? `DELETE FROM ${part.table}${part.where ? ` WHERE ${part.where}` : ''}`);
    }
  });
}

/** The integrations this configuration runs against a sandbox (only their ledgers are cleared). */
export function sandboxedIntegrations(config: Config): SandboxedIntegration[] {
  return [
    ...(config.usersTarget === 'sandbox' ? (['users'] as const) : []),
    ...(config.paymentsBaseUrl === 'sandbox' ? (['payments'] as const) : []),
    ...(config.notificationsSandbox ? (['notifications'] as const) : []),
  ];
}

export interface SandboxResetReport {
  /** The sandbox state folder, or undefined for `memory://`. */
  stateDir: string | undefined;
  /** State files deleted from it. */
  files: string[];
  /** Ledgers cleared in the store. */
  ledgers: SandboxedIntegration[];
  /** Where the store is (PGlite folder or masked Postgres URL). */
  store: string;
}

/**
 * `carebridge sandbox reset`: deletes every sandbox's saved records under the data directory and the ledger
 * rows that mirror them, so the next start begins from the seeded state. Refused in production, and while a
 * gateway holds the data directory (its sandboxes would write their records back at stop; use
 * `POST /_sandbox/reset` on a running one).
 */
export async function resetSandboxes(config: Config): Promise<SandboxResetReport> {
  if (config.profile === 'production')
    throw new ConfigError(
      'carebridge sandbox reset: refused in the production profile (it deletes ledger rows)',
    );
  const stateDir = sandboxStateDir(config.dataDir);
  // Held for the whole reset: a gateway starting meanwhile finds the folder taken and stops.
  const release = stateDir ? acquireStateDir(stateDir, { exclusive: true }) : undefined;
  try {
    return await resetHeld(config, stateDir);
  } finally {
    release?.();
  }
}

async function resetHeld(config: Config, stateDir: string | undefined): Promise<SandboxResetReport> {
  let ledgers = sandboxedIntegrations(config);
  let target: string;
  if (hasStore(config)) {
    const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      const [first, ...rest] = ledgers;
      if (first) await clearLedger(store, first, ...rest);
      target = store.target;
    } finally {
      await store.close();
    }
  } else {
    // No embedded store there yet (or an in-memory one): nothing to clear, and no reason to create one.
    ledgers = [];
    target = config.dataDir.startsWith('memory://') ? 'pglite:memory' : `pglite:${config.dataDir} (none yet)`;
  }
  // Files last: a failure above (one transaction) leaves both sides as they were, never one cleared alone.
  const files = stateDir ? clearStateDir(stateDir) : [];
  return { stateDir, files, ledgers, store: target };
}

function hasStore(config: Config): boolean {
  if (config.databaseUrl) return true;
  return !config.dataDir.startsWith('memory://') && existsSync(path.join(config.dataDir, 'PG_VERSION'));
}

/** One line per thing done, for the terminal. */
export function describeReset(r: SandboxResetReport): string {
  return [
    r.stateDir
      ? `sandbox state: ${r.files.length ? `deleted ${r.files.join(', ')}` : 'nothing saved'} in ${r.stateDir}`
      : 'sandbox state: none kept (CAREBRIDGE_DATA_DIR=memory://)',
    `ledger: ${r.ledgers.length ? `cleared ${r.ledgers.join(', ')}` : 'nothing to clear'} in ${r.store}`,
  ].join('\n');
}
