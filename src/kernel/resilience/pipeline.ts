import { getEventListeners } from 'node:events';
import {
  type BulkheadPolicy,
  bulkhead as cockatielBulkhead,
  DelegateBackoff,
  handleWhen,
  type RetryPolicy,
  retry,
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
  private readonly retryPolicy: RetryPolicy | undefined;
  private readonly bulkheadPolicy: BulkheadPolicy | undefined;
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
    // One retry policy for all calls. The per-call facts (deadline, idempotency, attempt number) are applied
    // where the attempt fails: the failure is wrapped with its decision, which the policy only reads.
    this.retryPolicy =
      this.retryOpts && this.retryOpts.maxAttempts > 1
        ? retry(
            handleWhen((e) => e instanceof AttemptFailure && e.decision.retry),
            // Always bounded and always with a backoff: cockatiel's defaults retry forever with no delay.
            {
              maxAttempts: this.retryOpts.maxAttempts - 1,
              backoff: new DelegateBackoff((ctx: { result: unknown }) => {
                const r = ctx.result as { error?: unknown };
                return r.error instanceof AttemptFailure && r.error.decision.retry
                  ? r.error.decision.delayMs
                  : 0;
              }),
            },
          )
        : undefined;
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
        ? await this.bulkheadPolicy.execute(() => this.withTotal(fn, idempotent, opts.signal), opts.signal)
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

  /**
   * The total timeout is aggressive (the call rejects at the deadline even if the function ignores its
   * signal) and aborts the running attempt. It is done here rather than with cockatiel's TimeoutPolicy, which
   * allocates an AbortController plus event wrappers per policy per call: that was most of the pipeline's
   * overhead in bench/http.ts. One AbortController per attempt remains (the signal undici needs).
   */
  private withTotal<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    idempotent: boolean,
    signal: AbortSignal | undefined,
  ): Promise<R> {
    const call = new CallBudget(this.totalMs);
    const work = this.retryPolicy
      ? this.retryPolicy
          .execute(({ attempt }) => this.retriedAttempt(fn, attempt + 1, idempotent, call))
          .catch((e: unknown) => {
            throw e instanceof AttemptFailure ? e.error : e;
          })
      : this.attempt(fn, 1, call);
    return call.race(work, signal, () => this.timeoutError(true));
  }

  private async retriedAttempt<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    attempt: number,
    idempotent: boolean,
    call: CallBudget,
  ): Promise<R> {
    try {
      return await this.attempt(fn, attempt, call);
    } catch (e) {
      const decision = decideRetry(e, {
        attempt,
        options: this.retryOpts as RetryOptions,
        idempotent,
        remainingMs: call.deadline - Date.now(),
        budget: this.o.budget,
      });
      const code = codeOf(e);
      this.telemetry.emit(
        decision.retry
          ? { type: 'retry', attempt, delayMs: decision.delayMs, reason: decision.reason, code }
          : { type: 'give_up', attempt, reason: decision.reason, code },
      );
      throw new AttemptFailure(e, decision);
    }
  }

  private attempt<R>(fn: (ctx: AttemptContext) => Promise<R>, attempt: number, call: CallBudget): Promise<R> {
    // cockatiel's retry sleeps without watching a signal: never start an attempt once the budget is gone.
    if (call.expired) return Promise.reject(this.timeoutError(true));
    const limited = async (): Promise<R> => {
      if (this.o.rateLimiter) await this.o.rateLimiter.acquire(call.signal);
      return this.call(fn, attempt, call);
    };
    return this.breaker ? this.breaker.execute(limited) : limited();
  }

  private async call<R>(
    fn: (ctx: AttemptContext) => Promise<R>,
    attempt: number,
    call: CallBudget,
  ): Promise<R> {
    const ctrl = takeController();
    call.current = ctrl;
    const timer = this.attemptMs < this.totalMs ? setTimeout(() => ctrl.abort(), this.attemptMs) : undefined;
    try {
      return await fn({ signal: ctrl.signal, attempt });
    } catch (err) {
      // A function that rejects with its own AbortError (fetch, grpc) after our timeout fired: that is a timeout.
      if (ctrl.signal.aborted && !isCareBridgeError(err)) throw this.timeoutError(call.expired);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      if (call.current === ctrl) call.current = undefined;
      releaseController(ctrl);
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

/**
 * Attempt signals are recycled. On Node 20 the first listener added to a fresh AbortSignal costs ~20 µs
 * (undici adds one per request): that alone was a third of the client's CPU per request in bench/http.ts,
 * while a signal that has had a listener before costs ~1 µs. A controller is reused only if it was never
 * aborted and nothing listens to it when the attempt ends (HttpClient removes its listener before it
 * returns), so no one can observe a later attempt's abort; `fn` must not use `ctx.signal` after it settled
 * (the contract of an attempt signal anyway).
 */
const controllerPool: AbortController[] = [];
const CONTROLLER_POOL_MAX = 1024;

function takeController(): AbortController {
  return controllerPool.pop() ?? new AbortController();
}

function releaseController(ctrl: AbortController): void {
  if (
    !ctrl.signal.aborted &&
    controllerPool.length < CONTROLLER_POOL_MAX &&
    getEventListeners(ctrl.signal, 'abort').length === 0
  ) {
    controllerPool.push(ctrl);
  }
}

/** A failed attempt plus the retry decision taken for it (read by the shared retry policy, then unwrapped). */
class AttemptFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly decision: RetryDecision,
  ) {
    super('attempt failed');
  }
}

/** One call's total budget: its deadline, the attempt in flight (aborted at the deadline), the timer. */
class CallBudget {
  readonly deadline: number;
  expired = false;
  current: AbortController | undefined;
  private ctrl: AbortController | undefined;

  constructor(private readonly totalMs: number) {
    this.deadline = Date.now() + totalMs;
  }

  /** A signal for waits outside an attempt (the rate limiter queue); made only when asked for. */
  get signal(): AbortSignal {
    this.ctrl ??= new AbortController();
    if (this.expired) this.ctrl.abort();
    return this.ctrl.signal;
  }

  race<R>(work: Promise<R>, caller: AbortSignal | undefined, timeoutError: () => Error): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const expire = () => {
        this.expired = true;
        this.current?.abort();
        this.ctrl?.abort();
        cleanup();
        reject(timeoutError());
      };
      const timer = setTimeout(expire, this.totalMs);
      if (caller?.aborted) expire();
      else caller?.addEventListener('abort', expire, { once: true });
      function cleanup() {
        clearTimeout(timer);
        caller?.removeEventListener('abort', expire);
      }
      work.then(
        (v) => {
          cleanup();
          resolve(v);
        },
        (e: unknown) => {
          cleanup();
          reject(e);
        },
      );
    });
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
