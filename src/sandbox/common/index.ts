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
  fingerprintOf,
  IDEMPOTENCY_RETENTION_SECONDS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  SandboxIdempotency,
  type StoredAnswer,
} from './idempotency.js';
export { createSandboxServer, type SandboxServer, type SandboxServerOptions } from './server.js';
