import { z } from 'zod';
import { rejectUnknownOptions } from '../../kernel/config/index.js';
import { firstIssue } from '../../kernel/errors/index.js';
import type { HttpClient } from '../../kernel/http/index.js';
import type { BreakerOptions, RateLimiter, RetryBudget } from '../../kernel/resilience/index.js';
import type { Store } from '../../kernel/store/index.js';
import type { HealthRegistry, Logger, Metrics } from '../../kernel/telemetry/index.js';

export interface PaymentIntegrationOptions {
  /** Processor base URL, e.g. `https://processor.example` or the sandbox's `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** API key id sent as X-Api-Key. */
  apiKey: string;
  /** Signing secrets; every request carries one `v1=` per secret (list two during a rotation). */
  apiSecrets: string[];
  /** Secrets that verify inbound webhooks (any one may match). */
  webhookSecrets: string[];
  /** Largest webhook signature age in seconds. Default 300. */
  webhookToleranceSeconds?: number;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  health?: HealthRegistry;
  /** Attempts per processor call, first included. Default 3. */
  maxAttempts?: number;
  /** Per-attempt timeout (ms). Default 10000. */
  attemptTimeoutMs?: number;
  /** Budget of one processor call including retries (ms). Default 30000. */
  totalTimeoutMs?: number;
  /** Send → reconcile rounds of a write before it is left `unknown`. Default 2. */
  reconcileRounds?: number;
  /** The account's breaker (shared by every operation). Default consecutive 10, half-open after 5 s; false disables. */
  breaker?: BreakerOptions | false;
  /** Shared retry budget; default none (the pipeline's attempts bound retries). */
  retryBudget?: RetryBudget;
  /**
   * The account's outbound rate limit (one permit per attempt, all operations); default none. The component
   * passes `limiters.bucket(...)`: shared by every instance through Redis when REDIS_URL is set.
   */
  rateLimiter?: RateLimiter;
  /** Keep-alive connections to the processor. Default 32. */
  connections?: number;
  /** Injected transport (tests); default an HttpClient on `baseUrl` with the v1 signer. */
  httpClient?: HttpClient;
  now?: () => Date;
}

const fn = z.custom<(...a: unknown[]) => unknown>((v) => typeof v === 'function', {
  error: 'expected a function',
});
const obj = (what: string) =>
  z.custom<object>((v) => typeof v === 'object' && v !== null, { error: `expected ${what}` });

const schema = z.object({
  baseUrl: z.url({ error: 'expected an http(s) URL' }),
  apiKey: z.string().min(1),
  apiSecrets: z.array(z.string().min(1)).min(1, { error: 'at least one secret' }),
  webhookSecrets: z.array(z.string().min(1)).min(1, { error: 'at least one secret' }),
  webhookToleranceSeconds: z.number().int().min(1).max(3600).optional(),
  store: obj('a Store'),
  metrics: obj('a Metrics registry'),
  logger: obj('a Logger'),
  health: obj('a HealthRegistry').optional(),
  maxAttempts: z.number().int().min(1).max(10).optional(),
  attemptTimeoutMs: z.number().int().min(10).max(120_000).optional(),
  totalTimeoutMs: z.number().int().min(10).max(600_000).optional(),
  reconcileRounds: z.number().int().min(1).max(10).optional(),
  breaker: z.union([z.literal(false), obj('breaker options')]).optional(),
  retryBudget: obj('a RetryBudget').optional(),
  rateLimiter: obj('a RateLimiter').optional(),
  connections: z.number().int().min(1).max(1024).optional(),
  httpClient: obj('an HttpClient').optional(),
  now: fn.optional(),
});

export type ResolvedOptions = Required<
  Omit<PaymentIntegrationOptions, 'health' | 'retryBudget' | 'rateLimiter' | 'httpClient'>
> &
  Pick<PaymentIntegrationOptions, 'health' | 'retryBudget' | 'rateLimiter' | 'httpClient'>;

/** Validates at construction: a typo or an out-of-range value throws at once (TypeError / RangeError). */
export function resolveOptions(o: PaymentIntegrationOptions): ResolvedOptions {
  rejectUnknownOptions('PaymentIntegration', o, Object.keys(schema.shape));
  const r = schema.safeParse(o);
  if (!r.success) {
    const issue = firstIssue(r.error, 'options');
    throw (issue.code === 'too_small' || issue.code === 'too_big' ? RangeError : TypeError)(
      `PaymentIntegration: ${issue.summary}`,
    );
  }
  return {
    webhookToleranceSeconds: 300,
    maxAttempts: 3,
    attemptTimeoutMs: 10_000,
    totalTimeoutMs: 30_000,
    reconcileRounds: 2,
    breaker: { kind: 'consecutive', threshold: 10, halfOpenAfterMs: 5_000 },
    connections: 32,
    now: () => new Date(),
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as ResolvedOptions;
}
