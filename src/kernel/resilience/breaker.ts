import type { CircuitBreakerPolicy } from 'cockatiel';
import {
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleWhen,
  SamplingBreaker,
} from 'cockatiel';
import { isCareBridgeError } from '../errors/index.js';
import type { HealthRegistry, Logger, Metrics } from '../telemetry/index.js';

export type BreakerOptions =
  | { kind: 'consecutive'; threshold: number; halfOpenAfterMs: number; maxHalfOpenAfterMs?: number }
  | {
      kind: 'sampling';
      /** Failure rate (0–1) that opens the breaker. */
      threshold: number;
      durationMs: number;
      minimumRps?: number;
      halfOpenAfterMs: number;
      maxHalfOpenAfterMs?: number;
    };

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};
const STATE_VALUES: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };

/** Upstream trouble opens a breaker; our own refusals (rate limits, an open breaker) and caller errors do not. */
export function isBreakerFailure(err: unknown): boolean {
  if (!isCareBridgeError(err) || !err.retryable) return false;
  return ![
    'RATE_LIMITED',
    'RATE_LIMIT_QUEUE_FULL',
    'CIRCUIT_OPEN',
    'BULKHEAD_FULL',
    'IDEMPOTENCY_KEY_IN_FLIGHT',
  ].includes(err.code);
}

export interface CircuitBreakerOptions {
  integration: string;
  /** Operation, or the breaker's own name when one breaker guards several operations (e.g. per payer). */
  operation: string;
  breaker: BreakerOptions;
  metrics: Metrics;
  logger: Logger;
  /** Registers `breaker:<integration>.<operation>` in /health/ready: degraded while not closed. */
  health?: HealthRegistry;
  /** The dependency's address shown in /health/ready. */
  target?: string;
  isFailure?: (err: unknown) => boolean;
}

/**
 * A cockatiel breaker plus what operators need: a gauge (`carebridge_resilience_breaker_state`, 0 closed,
 * 1 open, 2 half-open, 3 isolated), a log line per transition, and a readiness check. cockatiel moves to
 * half-open lazily (on the next call after `halfOpenAfter`), so reading its state alone would say "open"
 * forever on an idle integration; the check therefore reports "open since T, half-open eligible at T+x".
 * A failed probe doubles the wait, up to `maxHalfOpenAfterMs` (default 8× halfOpenAfterMs).
 */
export class CircuitBreaker {
  readonly policy: CircuitBreakerPolicy;
  private openedAtMs: number | undefined;
  private halfOpenDelayMs = 0;
  private readonly listeners = new Set<(s: BreakerState) => void>();

  constructor(opts: CircuitBreakerOptions) {
    const b = opts.breaker;
    if (!(b.halfOpenAfterMs > 0)) throw new RangeError('breaker: halfOpenAfterMs must be > 0');
    const maxDelay = b.maxHalfOpenAfterMs ?? b.halfOpenAfterMs * 8;
    const breaker =
      b.kind === 'consecutive'
        ? new ConsecutiveBreaker(b.threshold)
        : new SamplingBreaker({ threshold: b.threshold, duration: b.durationMs, minimumRps: b.minimumRps });
    this.policy = circuitBreaker(handleWhen(opts.isFailure ?? isBreakerFailure), {
      breaker,
      halfOpenAfter: new DelegateBackoff<{ attempt: number }>((ctx) => {
        this.halfOpenDelayMs = Math.min(maxDelay, b.halfOpenAfterMs * 2 ** Math.max(0, ctx.attempt - 1));
        return this.halfOpenDelayMs;
      }),
    });
    const gauge = opts.metrics.gauge(
      'carebridge_resilience_breaker_state',
      'Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.',
      ['integration', 'operation'],
    );
    const labels = { integration: opts.integration, operation: opts.operation };
    gauge.set(labels, 0);
    this.policy.onStateChange((s) => {
      const state = STATE_NAMES[s];
      if (state === 'open' || state === 'isolated') this.openedAtMs = Date.now();
      if (state === 'closed') this.openedAtMs = undefined;
      gauge.set(labels, STATE_VALUES[state]);
      const last = this.policy.lastFailure;
      const code = last && 'error' in last && isCareBridgeError(last.error) ? last.error.code : undefined;
      opts.logger[state === 'closed' ? 'info' : 'warn'](
        {
          integration: opts.integration,
          operation: opts.operation,
          breaker: state,
          cause: state === 'open' ? code : undefined,
        },
        `circuit breaker ${state}`,
      );
      for (const l of this.listeners) l(state);
    });
    if (opts.health) {
      const name = `breaker:${opts.integration}.${opts.operation}`;
      opts.health.unregister(name);
      opts.health.register({
        name,
        required: false,
        target: opts.target ?? opts.integration,
        check: () => this.check(),
      });
    }
  }

  get state(): BreakerState {
    return STATE_NAMES[this.policy.state];
  }

  /** When the breaker opened (ms since epoch), while open. */
  get openedAt(): number | undefined {
    return this.openedAtMs;
  }

  /** When the next call may probe the upstream, while open. */
  get halfOpenEligibleAt(): number | undefined {
    return this.openedAtMs === undefined ? undefined : this.openedAtMs + this.halfOpenDelayMs;
  }

  onStateChange(listener: (s: BreakerState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Holds the breaker open (maintenance, a provider incident); dispose the handle to release it. */
  isolate(): { dispose(): void } {
    return this.policy.isolate();
  }

  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.policy.execute(({ signal: s }) => fn(s), signal);
  }

  private check() {
    const state = this.state;
    if (state === 'closed') return { status: 'up' as const, detail: 'closed' };
    if (state === 'half-open')
      return { status: 'degraded' as const, detail: 'half-open: probing the upstream' };
    const since = new Date(this.openedAtMs ?? Date.now()).toISOString();
    if (state === 'isolated')
      return { status: 'degraded' as const, detail: `isolated (held open by an operator) since ${since}` };
    const eligible = new Date(this.halfOpenEligibleAt ?? Date.now()).toISOString();
    return {
      status: 'degraded' as const,
      detail: `open since ${since}; half-open eligible at ${eligible} (on the next call)`,
    };
  }
}
