export {
  type CheckResult,
  type HealthCheck,
  HealthRegistry,
  type HealthStatus,
  type ReadinessReport,
} from './health.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { BatchedSeries } from './metric-batch.js';
export { Metrics } from './metrics.js';
export { REDACTED_KEYS, redactPaths } from './redaction.js';
