import type { Logger, Metrics } from '../telemetry/index.js';

export interface OutboxDestinationsOptions {
  /** Says once per destination that optional messages for it are dropped (no transport). */
  logger?: Logger;
  metrics?: Metrics;
}

/**
 * The outbox destinations this instance can deliver: the prefixes of the transports its components registered
 * (`rabbitmq:`, later `kafka:`). The store hands it to every transaction (`Queryable.outbox`), and `enqueue`
 * refuses a row no transport would ever take: such a row waits for good, ages the outbox past
 * CAREBRIDGE_OUTBOX_MAX_AGE_SECONDS and leaves /health/ready degraded from then on (issue #13 §2).
 */
export class OutboxDestinations {
  private readonly prefixes = new Set<string>();
  private readonly dropped = new Set<string>();
  private readonly droppedTotal;

  constructor(private readonly options: OutboxDestinationsOptions = {}) {
    this.droppedTotal = options.metrics?.counter(
      'carebridge_outbox_dropped_messages_total',
      'Optional outbox messages not written because no transport delivers their destination.',
      ['destination'],
    );
  }

  /** Adds transport prefixes (`'rabbitmq:'`; a bare `'rabbitmq'` gets its colon). */
  register(...prefixes: string[]): void {
    for (const p of prefixes) this.prefixes.add(p.includes(':') ? p : `${p}:`);
  }

  /** Whether a registered transport delivers `destination`. */
  accepts(destination: string): boolean {
    for (const p of this.prefixes) if (destination.startsWith(p)) return true;
    return false;
  }

  /** The registered prefixes, for error messages and `carebridge doctor`. */
  list(): string[] {
    return [...this.prefixes].sort();
  }

  /** Counts an optional message left out for want of a transport, and says so once per destination. */
  drop(destination: string): void {
    this.droppedTotal?.inc({ destination });
    if (this.dropped.has(destination)) return;
    this.dropped.add(destination);
    this.options.logger?.warn(
      { destination, transports: this.list() },
      'no outbox transport delivers this destination: its optional messages are not written (counted in carebridge_outbox_dropped_messages_total)',
    );
  }
}
