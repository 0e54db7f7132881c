export { socketFailureReason } from './failure-reason.js';
export { FailureReporter, type FailureReporterOptions } from './failure-reporter.js';
export {
  type CheckReport,
  type CheckResult,
  DEFAULT_READINESS_REFRESH_MS,
  type HealthCheck,
  HealthRegistry,
  type HealthStatus,
  type ReadinessReport,
} from './health.js';
export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { BatchedSeries } from './metric-batch.js';
export { Metrics } from './metrics.js';
export { maskCredentials, REDACTED_KEYS, redactPaths } from './redaction.js';
