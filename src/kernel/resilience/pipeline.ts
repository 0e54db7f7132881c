import {
  type BulkheadPolicy,
  bulkhead as cockatielBulkhead,
  DelegateBackoff,
  handleWhen,
  retry,
  type TimeoutPolicy,
  TimeoutStrategy,
  timeout,
} from 'cockatiel';
import { type CareBridgeError, errors, isCareBridgeError, normalizeError } from '../errors/index.js';
import type { HealthRegistry, Logger, Metrics } from '../telemetry/index.js';
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RetryBudget } from './retry-budget.js';
import { decideRetry, type RetryDecision, type RetryOptions } from './retry-decision.js';
import { type PipelineEvent, PipelineTelemetry } from './telemetry.js';

export interface PipelineOptions<T = unknown> {
  integration: string;
  operation: string;
  /** Default `{ maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 5000 }`; `false` never retries. */
  retry?: RetryOptions | false;
  /**
   * A breaker config (this pipeline's own breaker), a shared CircuitBreaker (e.g. one per payer), or false.
   * Default: consecutive, 5 failures, half-open after 30 s.
   */
  breaker?: BreakerOptions | CircuitBreaker | false;
  /** Per-attempt timeout (ms), passed down as the attempt's AbortSignal. Default 5000. */
  attemptTimeoutMs?: number;
  /** Budget of the whole call including backoff (ms). Default 15000. */
  totalTimeoutMs?: number;
  bulkhead?: { limit: number; queue?: number };
  /** Shared per integration. */
  budget?: RetryBudget;
  /** Per provider credential; one permit per attempt. */
  rateLimiter?: RateLimiter;
  /** Called with the final error instead of throwing it (e.g. a cached result marked stale). */
  fallback?: (err: CareBridgeError) => Promise<T> | T;
  metrics: Metrics;
  logger: Logger;
  /** Breaker state → readiness (degraded when open). */
  health?: HealthRegistry;
  /** The dependency's address for /health/ready. */
  target?: string;
}

export interface ExecuteOptions {
  /** The call is safe to repeat (a read, or a write that carries an idempotency key). Default false. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface AttemptContext {
  signal: AbortSignal;
  /** 1 for the first try. */
  attempt: number;
}

export interface Pipeline {
  execute<R>(fn: (ctx: AttemptContext) => Promise<R>, opts?: ExecuteOptions): Promise<R>;
  readonly breakerState: BreakerState;
  readonly breaker: CircuitBreaker | undefined;
  /** Typed events (retry with its delay, give-up, rejection, fallback, breaker transitions). */
  onEvent(listener: (e: PipelineEvent) => void): () => void;
}

const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 5_000 };
const DEFAULT_BREAKER: BreakerOptions = { kind: 'consecutive', threshold: 5, halfOpenAfterMs: 30_000 };

/**
 * One resilience pipeline per (integration, operation), outermost first:
 * fallback → bulkhead → total timeout → retry (budgeted, Retry-After aware) → breaker → rate limiter →
 * attempt timeout → fn. Retrying outside the breaker means a retry sees an open breaker and stops at once;
 * the rate limiter sits inside so every attempt that reaches the provider spends a permit, and the attempt
 * timeout starts only once the permit is held. Everything thrown out is a CareBridgeError.
 */
export function createPipeline<T = unknown>(opts: PipelineOptions<T>): Pipeline {
  return new ResiliencePipeline<T>(opts);
}

class ResiliencePipeline<T> implements Pipeline {
  readonly breaker: CircuitBreaker | undefined;
  private readonly retryOpts: RetryOptions | undefined;
  private readonly bulkheadPolicy: BulkheadPolicy | undefined;
  private readonly totalTimeout: TimeoutPolicy;
  private readonly attemptTimeout: TimeoutPolicy | undefined;
  private readonly totalMs: number;
  private readonly attemptMs: number;
  private readonly telemetry: PipelineTelemetry;

  constructor(private readonly o: PipelineOptions<T>) {
    this.retryOpts = o.retry === false ? undefined : { ...DEFAULT_RETRY, ...(o.retry ?? {}) };
    if (
      this.retryOpts &&
      !(Number.isInteger(this.retryOpts.maxAttempts) && this.retryOpts.maxAttempts >= 1)
    ) {
      throw new RangeError(
        `pipeline ${o.integration}.${o.operation}: retry.maxAttempts must be an integer >= 1`,
      );
    }
    this.totalMs = o.totalTimeoutMs ?? 15_000;
    this.attemptMs = o.attemptTimeoutMs ?? 5_000;
    if (!(this.totalMs > 0 && this.attemptMs > 0)) throw new RangeError('pipeline: timeouts must be > 0');
    this.telemetry = new PipelineTelemetry(o);
    this.breaker =
      o.breaker instanceof CircuitBreaker
        ? o.breaker
        : o.breaker === false
          ? undefined
          : new CircuitBreaker({ ...o, breaker: o.breaker ?? DEFAULT_BREAKER });
    this.breaker?.onStateChange((state) => this.telemetry.emit({ type: 'breaker', state }));
    this.bulkheadPolicy = o.bulkhead ? cockatielBulkhead(o.bulkhead.limit, o.bulkhead.queue ?? 0) : undefined;
    this.totalTimeout = timeout(this.totalMs, TimeoutStrategy.Aggressive);
    this.attemptTimeout =
      this.attemptMs < this.totalMs ? timeout(this.attemptMs, TimeoutStrategy.Cooperative) : undefined;
  }

  get breakerState(): BreakerState {
    return this.breaker?.state ?? 'closed';
  }

  onEvent(listener: (e: PipelineEvent) => void): () => void {
    return this.telemetry.on(listener);
  }

  async execute<R>(fn: (ctx: AttemptContext) => Promise<R>, opts: ExecuteOptions = {}): Promise<R> {
    const idempotent = opts.idempotent === true;
    this.o.budget?.recordRequest();
    const started = performance.now();
    try {
      const value = this.bulkheadPolicy
        ? await this.bulkheadPolicy.execute(
            ({ signal }) => this.withTotal(fn, idempotent, signal),
            opts.signal,
          )
        : await this.withTotal(fn, idempotent, opts.signal);
      this.telemetry.finished('success', started);
      return value;
    } catch (raw) {
      const err = this.toError(raw);
      this.telemetry.finished(err.code, started);
      if (this.o.fallback) {
        this.telemetry.emit({ type: 'fallback', code: err.code });
        return (await this.o.fallback(err)) as unknown as R;
      }
      throw err;
    }
  }

  private withTotal<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    idempotent: boolean,
    signal: AbortSignal | undefined,
  ): Promise<R> {
    const deadline = Date.now() + this.totalMs;
    return this.totalTimeout.execute(({ signal: s }) => this.withRetry(fn, idempotent, deadline, s), signal);
  }

  private withRetry<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    idempotent: boolean,
    deadline: number,
    signal: AbortSignal,
  ): Promise<R> {
    const retryOpts = this.retryOpts;
    if (!retryOpts || retryOpts.maxAttempts === 1) return this.attempt(fn, 1, signal);
    let attemptNo = 1;
    let decision: RetryDecision = { retry: false, reason: 'not evaluated' };
    const policy = retry(
      handleWhen((e) => {
        decision = decideRetry(e, {
          attempt: attemptNo,
          options: retryOpts,
          idempotent,
          remainingMs: deadline - Date.now(),
          budget: this.o.budget,
        });
        this.telemetry.emit(
          decision.retry
            ? {
                type: 'retry',
                attempt: attemptNo,
                delayMs: decision.delayMs,
                reason: decision.reason,
                code: codeOf(e),
              }
            : { type: 'give_up', attempt: attemptNo, reason: decision.reason, code: codeOf(e) },
        );
        return decision.retry;
      }),
      // Always bounded: cockatiel's defaults would retry forever with no delay.
      {
        maxAttempts: retryOpts.maxAttempts - 1,
        backoff: new DelegateBackoff(() => (decision.retry ? decision.delayMs : 0)),
      },
    );
    return policy.execute(({ attempt, signal: s }) => {
      attemptNo = attempt + 1;
      return this.attempt(fn, attemptNo, s);
    }, signal);
  }

  private attempt<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    attempt: number,
    signal: AbortSignal,
  ): Promise<R> {
    // cockatiel's retry sleeps without watching the signal: never start an attempt once the budget is gone.
    if (signal.aborted) return Promise.reject(this.timeoutError(true));
    const limited = async (s: AbortSignal): Promise<R> => {
      if (this.o.rateLimiter) await this.o.rateLimiter.acquire(s);
      return this.attemptTimeout
        ? this.attemptTimeout.execute(({ signal: as }) => this.call(fn, attempt, as), s)
        : this.call(fn, attempt, s);
    };
    return this.breaker ? this.breaker.execute(limited, signal) : limited(signal);
  }

  private async call<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    attempt: number,
    signal: AbortSignal,
  ): Promise<R> {
    try {
      return await fn({ signal, attempt });
    } catch (err) {
      // A function that rejects with its own AbortError (fetch, grpc) after our timeout fired: that is a timeout.
      if (signal.aborted && !isCareBridgeError(err)) throw this.timeoutError(false);
      throw err;
    }
  }

  private timeoutError(total: boolean): CareBridgeError {
    return errors.upstreamTimeout(
      total
        ? `${this.o.integration} did not answer within the ${this.totalMs} ms budget.`
        : `${this.o.integration} did not answer within ${this.attemptMs} ms.`,
      { integration: this.o.integration },
    );
  }

  private toError(raw: unknown): CareBridgeError {
    if (isCareBridgeError(raw)) return raw;
    if (isBrokenCircuitError(raw)) {
      const at = this.breaker?.halfOpenEligibleAt;
      const retryAfterSeconds =
        at === undefined ? undefined : Math.max(1, Math.ceil((at - Date.now()) / 1000));
      this.telemetry.emit({ type: 'rejected', code: 'CIRCUIT_OPEN' });
      return errors.circuitOpen(
        `${this.o.integration} is failing; calls are paused while its circuit breaker is open.`,
        {
          integration: this.o.integration,
          retryAfterSeconds,
        },
      );
    }
    if (isBulkheadRejectedError(raw)) {
      this.telemetry.emit({ type: 'rejected', code: 'BULKHEAD_FULL' });
      return errors.bulkheadFull(`Too many calls to ${this.o.integration} are in flight.`, {
        integration: this.o.integration,
      });
    }
    if (isTaskCancelledError(raw)) return this.timeoutError(true);
    return normalizeError(raw);
  }
}

// cockatiel 3.2.1's own guards for TaskCancelledError and IsolatedCircuitError test the bulkhead brand
// (dist/errors/Errors.js), so we check each brand property ourselves.
const hasBrand = (e: unknown, brand: string) =>
  typeof e === 'object' && e !== null && (e as Record<string, unknown>)[brand] === true;
const isBrokenCircuitError = (e: unknown) => hasBrand(e, 'isBrokenCircuitError');
const isBulkheadRejectedError = (e: unknown) => hasBrand(e, 'isBulkheadRejectedError');
const isTaskCancelledError = (e: unknown) => hasBrand(e, 'isTaskCancelledError');

function codeOf(e: unknown): string {
  return isCareBridgeError(e) ? e.code : isBrokenCircuitError(e) ? 'CIRCUIT_OPEN' : 'INTERNAL';
}
