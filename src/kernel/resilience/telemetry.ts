import type { Counter, Histogram } from 'prom-client';
import type { Logger, Metrics } from '../telemetry/index.js';
import { BatchedSeries } from '../telemetry/index.js';
import type { BreakerState } from './breaker.js';

export type PipelineEvent =
  | { type: 'retry'; attempt: number; delayMs: number; reason: 'retry-after' | 'backoff'; code: string }
  | { type: 'give_up'; attempt: number; reason: string; code: string }
  | { type: 'rejected'; code: 'CIRCUIT_OPEN' | 'BULKHEAD_FULL' }
  | { type: 'fallback'; code: string }
  | { type: 'breaker'; state: BreakerState };

/**
 * Turns the pipeline's typed events into metrics and logs in one place, with bounded labels
 * (integration, operation, outcome = `success` or an error code, reason) and never an id.
 */
export class PipelineTelemetry {
  private readonly listeners = new Set<(e: PipelineEvent) => void>();
  private readonly labels: { integration: string; operation: string };
  private readonly calls: Counter<'integration' | 'operation' | 'outcome'>;
  private readonly duration: Histogram<'integration' | 'operation' | 'outcome'>;
  private readonly retries: Counter<'integration' | 'operation' | 'reason'>;
  private readonly rejections: Counter<'integration' | 'operation' | 'reason'>;
  private readonly logger: Logger;
  private readonly byOutcome = new Map<string, BatchedSeries>();

  constructor(o: { integration: string; operation: string; metrics: Metrics; logger: Logger }) {
    this.labels = { integration: o.integration, operation: o.operation };
    this.logger = o.logger;
    const l = ['integration', 'operation', 'outcome'] as const;
    this.calls = o.metrics.counter(
      'carebridge_resilience_calls_total',
      'Calls through a resilience pipeline, by final outcome.',
      l,
    );
    this.duration = o.metrics.histogram(
      'carebridge_resilience_call_duration_seconds',
      'Duration of a pipeline call, retries and backoff included.',
      l,
    );
    this.retries = o.metrics.counter(
      'carebridge_resilience_retries_total',
      'Retries scheduled, by why the delay was chosen.',
      ['integration', 'operation', 'reason'],
    );
    this.rejections = o.metrics.counter(
      'carebridge_resilience_rejections_total',
      'Calls refused without reaching the provider.',
      ['integration', 'operation', 'reason'],
    );
  }

  on(listener: (e: PipelineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  finished(outcome: string, startedMs: number): void {
    // One batched series per outcome: prom-client's labelled children still hash the label set on every
    // call, a visible cost in bench/http.ts (see BatchedSeries).
    let m = this.byOutcome.get(outcome);
    if (!m) {
      m = new BatchedSeries(this.calls, this.duration, { ...this.labels, outcome });
      this.byOutcome.set(outcome, m);
    }
    m.record((performance.now() - startedMs) / 1000);
  }

  emit(e: PipelineEvent): void {
    switch (e.type) {
      case 'retry':
        this.retries.inc({ ...this.labels, reason: e.reason });
        this.logger.debug(
          { ...this.labels, attempt: e.attempt, delayMs: e.delayMs, code: e.code, reason: e.reason },
          'retrying',
        );
        break;
      case 'give_up':
        if (e.attempt > 1 || e.reason !== 'not a retryable error') {
          this.logger.debug(
            { ...this.labels, attempt: e.attempt, code: e.code, reason: e.reason },
            'not retrying',
          );
        }
        break;
      case 'rejected':
        this.rejections.inc({ ...this.labels, reason: e.code });
        break;
      default:
        break;
    }
    for (const l of this.listeners) l(e);
  }
}
