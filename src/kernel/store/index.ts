export { type AuditEntry, type AuditRow, audit, readAudit } from './audit.js';
export { DATA_DIR_LOCK_FILE, DataDirLockedError, isProcessAlive } from './data-dir-lock.js';
export {
  type BeginResult,
  hashRequest,
  IdempotencyStore,
  type IdempotencyStoreOptions,
  type StoredResponse,
} from './idempotency.js';
export {
  type JobHandler,
  type JobOutcome,
  type JobRecord,
  JobRunner,
  type JobRunnerOptions,
  type JobSpec,
  scheduleJob,
} from './jobs.js';
export { type Migration, migrate } from './migrate.js';
export { KERNEL_MIGRATIONS } from './migrations.js';
export { type OpenStoreOptions, openStore } from './open.js';
export {
  type EnqueueOptions,
  enqueue,
  type OutboxBacklog,
  type OutboxMessage,
  type OutboxRecord,
  type OutboxTransport,
  outboxBacklog,
  type PublishResult,
  requeueDead,
} from './outbox.js';
export { OutboxDestinations, type OutboxDestinationsOptions } from './outbox-destinations.js';
export { OutboxRelay, type OutboxRelayOptions, startOutboxRelay } from './outbox-relay.js';
export { PgStore, type PgStoreOptions } from './pg-store.js';
export { PgliteStore } from './pglite-store.js';
export type { Queryable, QueryResult, Store } from './store.js';
