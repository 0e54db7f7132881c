export { SandboxClock, type ScheduledJob } from './clock.js';
export {
  type FaultAction,
  FaultInjector,
  type FaultRule,
  faultRuleSchema,
  faultScriptSchema,
  seededRandom,
} from './faults.js';
export {
  type Begin,
  DEFAULT_MAX_IDEMPOTENCY_KEYS,
  fingerprintOf,
  IDEMPOTENCY_RETENTION_SECONDS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  SandboxIdempotency,
  type SavedIdempotencyKey,
  type StoredAnswer,
} from './idempotency.js';
export { createSandboxServer, type SandboxServer, type SandboxServerOptions } from './server.js';
export {
  acquireStateDir,
  clearStateDir,
  SANDBOX_STATE_FOLDER,
  SandboxStateDirBusyError,
  sandboxStateDir,
  stateDirOwner,
} from './state-dir.js';
export { DEFAULT_SAVE_DELAY_MS, SandboxStateFile, type SandboxStateFileOptions } from './state-file.js';
