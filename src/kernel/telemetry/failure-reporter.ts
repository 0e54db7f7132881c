import type { Logger } from './logger.js';
import { maskCredentials } from './redaction.js';

export interface FailureReporterOptions {
  /** How operators name it in the message: `RabbitMQ`, `Postgres`, `Redis`, `the user service`. */
  dependency: string;
  /** Its address (credentials are masked before it is logged). */
  target: string;
  logger: Logger;
}

/**
 * Says why a dependency is unusable once, in words, per distinct reason: a connection retrying every few seconds,
 * or a readiness probe every ten, would otherwise repeat the same warning forever (or, as before, say nothing).
 * A new reason warns again; `succeeded` forgets the last one, so the same failure after a recovery warns again.
 */
export class FailureReporter {
  private last: string | undefined;

  constructor(private readonly o: FailureReporterOptions) {}

  /** The reason of the current failure, or undefined while the dependency works. */
  get reason(): string | undefined {
    return this.last;
  }

  failed(reason: string, err?: unknown): void {
    if (reason === this.last) return;
    this.last = reason;
    this.o.logger.warn(
      {
        dependency: this.o.dependency,
        target: maskCredentials(this.o.target),
        reason,
        ...(err === undefined ? {} : { err }),
      },
      `${this.o.dependency} unavailable: ${reason}`,
    );
  }

  /** Returns true when it was failing (the caller may log its own recovery line). */
  succeeded(): boolean {
    const was = this.last !== undefined;
    this.last = undefined;
    return was;
  }
}
