import type { HttpClient } from '../../kernel/http/index.js';
import {
  type CircuitBreaker,
  createPipeline,
  type Pipeline,
  type RateLimiter,
  type RetryBudget,
} from '../../kernel/resilience/index.js';
import type { HealthRegistry, Logger, Metrics } from '../../kernel/telemetry/index.js';
import { type ProviderAnswer, toCareBridgeError } from './errors.js';

/** A final processor answer: the object (2xx), or a business refusal (4xx other than 409/429). */
export type Outcome<T> = { ok: true; body: T; replayed: boolean } | { ok: false; answer: ProviderAnswer };

export interface ProcessorOptions {
  http: HttpClient;
  metrics: Metrics;
  logger: Logger;
  health?: HealthRegistry | undefined;
  target: string;
  breaker: CircuitBreaker | false;
  budget?: RetryBudget | undefined;
  /** The account's outbound limit: one permit per attempt, shared by every operation (and instance, with Redis). */
  rateLimiter?: RateLimiter | undefined;
  maxAttempts: number;
  attemptTimeoutMs: number;
  totalTimeoutMs: number;
}

/**
 * The client of the payment processor, its thin HTTP layer ("proxy"): one resilience pipeline per operation,
 * one breaker for the account. Inside an attempt, 5xx / 409 (key in use) / 429 are thrown as retryable
 * CareBridgeErrors, so the pipeline retries them — writes always with the same Idempotency-Key, re-signed
 * (fresh timestamp and nonce) by the HttpClient's signer on every attempt. Card declines and other 4xx come
 * back as final answers.
 */
export class ProcessorClient {
  private readonly pipelines = new Map<string, Pipeline>();

  constructor(private readonly options: ProcessorOptions) {}

  private pipeline(operation: string): Pipeline {
    let p = this.pipelines.get(operation);
    if (!p) {
      p = createPipeline({
        integration: 'payments',
        operation,
        retry: { maxAttempts: this.options.maxAttempts, initialDelayMs: 100, maxDelayMs: 2000 },
        breaker: this.options.breaker,
        attemptTimeoutMs: this.options.attemptTimeoutMs,
        totalTimeoutMs: this.options.totalTimeoutMs,
        budget: this.options.budget,
        rateLimiter: this.options.rateLimiter,
        metrics: this.options.metrics,
        logger: this.options.logger,
        target: this.options.target,
      });
      this.pipelines.set(operation, p);
    }
    return p;
  }

  async call<T>(
    operation: string,
    req: {
      method: 'GET' | 'POST' | 'DELETE';
      path: string;
      json?: unknown;
      query?: Record<string, string | number | undefined>;
      idempotencyKey?: string;
    },
  ): Promise<Outcome<T>> {
    return this.pipeline(operation).execute(
      async ({ signal }) => {
        const res = await this.options.http.request<T>({
          method: req.method,
          path: req.path,
          operation,
          signal,
          ...(req.json !== undefined ? { json: req.json } : {}),
          ...(req.query ? { query: req.query } : {}),
          ...(req.idempotencyKey ? { idempotencyKey: req.idempotencyKey } : {}),
        });
        if (res.status >= 200 && res.status < 300) {
          return {
            ok: true as const,
            body: res.body,
            replayed: res.headers['idempotent-replayed'] === 'true',
          };
        }
        const answer: ProviderAnswer = { status: res.status, headers: res.headers, body: res.body };
        if (res.status === 409 || res.status === 429 || res.status >= 500) throw toCareBridgeError(answer);
        return { ok: false as const, answer };
      },
      // GET/DELETE are safe to repeat; POSTs here always carry an idempotency key.
      { idempotent: req.method !== 'POST' || req.idempotencyKey !== undefined },
    );
  }
}
