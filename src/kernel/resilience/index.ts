export {
  type BreakerOptions,
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  isBreakerFailure,
} from './breaker.js';
export { Bulkhead } from './bulkhead.js';
export { type CacheResult, ResponseCache, type ResponseCacheOptions } from './cache.js';
export { resilienceErrors } from './errors.js';
export {
  type KeyedLimiter,
  KeyedRateLimiter,
  type KeyedRateLimiterOptions,
  type Take,
} from './keyed-rate-limiter.js';
export {
  type AttemptContext,
  createPipeline,
  type ExecuteOptions,
  type Pipeline,
  type PipelineOptions,
} from './pipeline.js';
export { type RateLimiter, TokenBucket, type TokenBucketOptions } from './rate-limiter.js';
export { createRateLimiters, type RateLimiters } from './rate-limiters.js';
export { RedisKeyedRateLimiter, type RedisKeyedRateLimiterOptions } from './redis-keyed-rate-limiter.js';
export { RedisTokenBucket, type RedisTokenBucketOptions } from './redis-rate-limiter.js';
export { RedisWatch } from './redis-watch.js';
export { parseRetryAfter } from './retry-after.js';
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js';
export { decideRetry, type RetryDecision, type RetryOptions } from './retry-decision.js';
export type { PipelineEvent } from './telemetry.js';
