export { createLogger, type Logger, type LoggerOptions } from './logger.js';
export { REDACTED_KEYS, redactPaths } from './redaction.js';
export { Metrics } from './metrics.js';
export { HealthRegistry, type HealthCheck, type HealthStatus, type CheckResult, type ReadinessReport } from './health.js';
