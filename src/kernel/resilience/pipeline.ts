import { type CareBridgeError, errors, isCareBridgeError, normalizeError } from '../errors/index.js';
import type { HealthRegistry, Logger, Metrics } from '../telemetry/index.js';
import { type BreakerOptions, type BreakerState, CircuitBreaker } from './breaker.js';
import { Bulkhead } from './bulkhead.js';
import { CallBudget, type CallDeadlines } from './call-budget.js';
import { DeadlineTimer } from './deadlines.js';
import type { RateLimiter } from './rate-limiter.js';
import type { RetryBudget } from './retry-budget.js';
import { decideRetry, type RetryOptions } from './retry-decision.js';
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
  private readonly bulkhead: Bulkhead | undefined;
  private readonly totalMs: number;
  private readonly attemptMs: number;
  private readonly telemetry: PipelineTelemetry;
  private readonly deadlines: CallDeadlines;

  constructor(private readonly options: PipelineOptions<T>) {
    this.retryOpts = options.retry === false ? undefined : { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    if (
      this.retryOpts &&
      !(Number.isInteger(this.retryOpts.maxAttempts) && this.retryOpts.maxAttempts >= 1)
    ) {
      throw new RangeError(
        `pipeline ${options.integration}.${options.operation}: retry.maxAttempts must be an integer >= 1`,
      );
    }
    // Retrying is on only with a second attempt to make; maxAttempts 1 behaves like `retry: false`.
    if (this.retryOpts && this.retryOpts.maxAttempts < 2) this.retryOpts = undefined;
    this.totalMs = options.totalTimeoutMs ?? 15_000;
    this.attemptMs = options.attemptTimeoutMs ?? 5_000;
    if (!(this.totalMs > 0 && this.attemptMs > 0)) throw new RangeError('pipeline: timeouts must be > 0');
    this.telemetry = new PipelineTelemetry(options);
    const timer = new DeadlineTimer();
    this.deadlines = { total: timer.list(this.totalMs), attempt: timer.list(this.attemptMs) };
    this.breaker =
      options.breaker instanceof CircuitBreaker
        ? options.breaker
        : options.breaker === false
          ? undefined
          : new CircuitBreaker({ ...options, breaker: options.breaker ?? DEFAULT_BREAKER });
    this.breaker?.onStateChange((state) => this.telemetry.emit({ type: 'breaker', state }));
    this.bulkhead = options.bulkhead
      ? new Bulkhead(options.bulkhead.limit, options.bulkhead.queue ?? 0)
      : undefined;
  }

  get breakerState(): BreakerState {
    return this.breaker?.state ?? 'closed';
  }

  onEvent(listener: (e: PipelineEvent) => void): () => void {
    return this.telemetry.on(listener);
  }

  /**
   * The layers (bulkhead, total timeout, retry loop) are done here rather than with cockatiel's
   * BulkheadPolicy/RetryPolicy/TimeoutPolicy: those wrapped each call in several more async functions,
   * result objects and (timeouts) an AbortController plus event wrappers per policy per call, most of the
   * pipeline's overhead in bench/http.ts. The promise returned is the call budget's own, settled once (by the
   * attempts, the deadline or the caller's signal); its settlement records the outcome and frees the
   * bulkhead slot (see `settled`), so no wrapper promise sits between the caller and the attempts.
   */
  execute<R>(fn: (ctx: AttemptContext) => Promise<R>, opts: ExecuteOptions = {}): Promise<R> {
    this.options.budget?.recordRequest();
    const call = new CallBudget(this.deadlines, this, performance.now());
    const result = call.result<R>();
    void this.run(fn, opts, call);
    return this.options.fallback ? this.withFallback(result) : result;
  }

  private async withFallback<R>(result: Promise<R>): Promise<R> {
    try {
      return await result;
    } catch (e) {
      const err = e as CareBridgeError;
      this.telemetry.emit({ type: 'fallback', code: err.code });
      return (await (this.options.fallback as (err: CareBridgeError) => Promise<T> | T)(err)) as unknown as R;
    }
  }

  /** CallBudget calls this exactly once per call, when it settles. */
  settled(call: CallBudget, ok: boolean, value: unknown): unknown {
    if (call.holdsSlot) this.bulkhead?.release();
    if (ok) {
      this.telemetry.finished('success', call.started);
      return value;
    }
    const err = this.toError(value);
    this.telemetry.finished(err.code, call.started);
    return err;
  }

  totalTimeout(): CareBridgeError {
    return this.timeoutError(true);
  }

  /**
   * Bulkhead slot, then attempts until one succeeds or the retry decision (budgeted, Retry-After aware)
   * says stop. Never rejects: every outcome settles the call.
   */
  private async run<R>(fn: (ctx: AttemptContext) => Promise<R>, opts: ExecuteOptions, call: CallBudget) {
    try {
      if (this.bulkhead) {
        const got = this.bulkhead.acquire(opts.signal);
        if (got !== true) await got;
        call.holdsSlot = true;
      }
      call.start(opts.signal);
      const retryOpts = this.retryOpts;
      for (let attempt = 1; ; attempt++) {
        // Never start an attempt once the budget is gone (the backoff sleep does not watch the deadline).
        if (call.expired) throw this.timeoutError(true);
        try {
          call.settle(true, await this.attempt(fn, attempt, call));
          return;
        } catch (e) {
          if (!retryOpts) throw e;
          const decision = decideRetry(e, {
            attempt,
            options: retryOpts,
            idempotent: opts.idempotent === true,
            remainingMs: call.deadline - performance.now(),
            budget: this.options.budget,
          });
          const code = codeOf(e);
          if (!decision.retry) {
            this.telemetry.emit({ type: 'give_up', attempt, reason: decision.reason, code });
            throw e;
          }
          this.telemetry.emit({
            type: 'retry',
            attempt,
            delayMs: decision.delayMs,
            reason: decision.reason,
            code,
          });
          await new Promise<void>((resolve) => setTimeout(resolve, decision.delayMs));
        }
      }
    } catch (e) {
      call.settle(false, e);
    }
  }

  /** breaker → rate limiter → attempt timeout → fn. */
  private attempt<R>(fn: (ctx: AttemptContext) => Promise<R>, attempt: number, call: CallBudget): Promise<R> {
    if (!this.breaker) return this.limited(fn, attempt, call);
    return this.breaker.policy.execute(() => this.limited(fn, attempt, call));
  }

  private async limited<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    attempt: number,
    call: CallBudget,
  ): Promise<R> {
    // The attempt timeout starts only once the permit is held.
    if (this.options.rateLimiter) await this.options.rateLimiter.acquire(call.signal);
    const ctrl = call.startAttempt();
    try {
      return await fn({ signal: ctrl.signal, attempt });
    } catch (err) {
      // A function that rejects with its own AbortError (fetch, grpc) after our timeout fired: that is a timeout.
      if (ctrl.signal.aborted && !isCareBridgeError(err)) throw this.timeoutError(call.expired);
      throw err;
    } finally {
      call.endAttempt(ctrl);
    }
  }

  private timeoutError(total: boolean): CareBridgeError {
    return errors.upstreamTimeout(
      total
        ? `${this.options.integration} did not answer within the ${this.totalMs} ms budget.`
        : `${this.options.integration} did not answer within ${this.attemptMs} ms.`,
      { integration: this.options.integration },
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
        `${this.options.integration} is failing; calls are paused while its circuit breaker is open.`,
        {
          integration: this.options.integration,
          retryAfterSeconds,
        },
      );
    }
    if (isBulkheadRejectedError(raw)) {
      this.telemetry.emit({ type: 'rejected', code: 'BULKHEAD_FULL' });
      return errors.bulkheadFull(`Too many calls to ${this.options.integration} are in flight.`, {
        integration: this.options.integration,
      });
    }
    if (isTaskCancelledError(raw)) return this.timeoutError(true);
    return normalizeError(raw);
  }
}

// cockatiel 3.2.1's own guards for TaskCancelledError and IsolatedCircuitError test the bulkhead brand
// (dist/errors/Errors.js), so we check each brand property ourselves (our Bulkhead's errors carry the same).
const hasBrand = (e: unknown, brand: string) =>
  typeof e === 'object' && e !== null && (e as Record<string, unknown>)[brand] === true;
const isBrokenCircuitError = (e: unknown) => hasBrand(e, 'isBrokenCircuitError');
const isBulkheadRejectedError = (e: unknown) => hasBrand(e, 'isBulkheadRejectedError');
const isTaskCancelledError = (e: unknown) => hasBrand(e, 'isTaskCancelledError');

function codeOf(e: unknown): string {
  return isCareBridgeError(e) ? e.code : isBrokenCircuitError(e) ? 'CIRCUIT_OPEN' : 'INTERNAL';
}
