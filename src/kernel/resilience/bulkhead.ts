/**
 * A bulkhead: at most `limit` calls run at once, up to `queue` more wait in arrival order, the rest are
 * refused with a `BulkheadRejected` (the pipeline turns it into BULKHEAD_FULL). Same rules as cockatiel's
 * BulkheadPolicy, which it replaces in the pipeline: that one wraps every call in two more async functions
 * and a result object, a visible share of the pipeline's cost in bench/http.ts. Here taking a free slot is
 * a synchronous counter increment; only a queued call gets a promise.
 */
export class Bulkhead {
  private active = 0;
  private readonly waiting: Array<Waiter> = [];

  constructor(
    readonly limit: number,
    readonly queue = 0,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new RangeError('bulkhead: limit must be an integer >= 1');
    if (!(Number.isInteger(queue) && queue >= 0))
      throw new RangeError('bulkhead: queue must be an integer >= 0');
  }

  /**
   * `true` when a slot was taken at once; a promise when the call must wait for one (it rejects with
   * `BulkheadCancelled` if the caller's signal aborted meanwhile). Throws `BulkheadRejected` when full.
   * Every slot taken must be given back with `release()`.
   */
  acquire(signal: AbortSignal | undefined): true | Promise<void> {
    if (signal?.aborted) throw new BulkheadCancelled();
    if (this.active < this.limit) {
      this.active++;
      return true;
    }
    if (this.waiting.length < this.queue) {
      return new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject, signal }));
    }
    throw new BulkheadRejected(this.limit, this.queue);
  }

  /** Hands the slot to the first waiter whose caller is still there, or frees it. */
  release(): void {
    for (let w = this.waiting.shift(); w; w = this.waiting.shift()) {
      if (w.signal?.aborted) {
        w.reject(new BulkheadCancelled());
        continue;
      }
      w.resolve();
      return;
    }
    this.active--;
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
}

/** The bulkhead and its queue are full. */
export class BulkheadRejected extends Error {
  readonly isBulkheadRejectedError = true;
  constructor(limit: number, queue: number) {
    super(`bulkhead full (${limit} running, ${queue} queued)`);
  }
}

/** The caller gave up (its signal aborted) before the call got a slot. */
export class BulkheadCancelled extends Error {
  readonly isTaskCancelledError = true;
  constructor() {
    super('cancelled before the call got a bulkhead slot');
  }
}
