/**
 * A retry budget shared by every pipeline of one integration (Envoy's retry budget, the SRE book's "retries
 * under 10% of requests"): in a sliding window, retries may be at most `ratio` of requests, but a floor of
 * `minPerSecond` retries per second is always allowed so a quiet integration can still retry. Retries cannot
 * then multiply an outage: when everything fails, traffic grows by at most `ratio`, not by `maxAttempts`×.
 */
export interface RetryBudgetOptions {
  /** Share of requests that may be retries, 0–1. Default 0.2. */
  ratio?: number;
  /** Retries per second always allowed. Default 3. */
  minPerSecond?: number;
  /** Window length (ms), in 1 s buckets. Default 10 s. */
  windowMs?: number;
  now?: () => number;
}

const BUCKET_MS = 1_000;

export class RetryBudget {
  readonly ratio: number;
  readonly minPerSecond: number;
  private readonly buckets: number;
  private readonly now: () => number;
  private readonly requests: number[];
  private readonly retries: number[];
  private current = 0;
  private currentStart: number;

  constructor(opts: RetryBudgetOptions = {}) {
    this.ratio = opts.ratio ?? 0.2;
    this.minPerSecond = opts.minPerSecond ?? 3;
    const windowMs = opts.windowMs ?? 10_000;
    if (!(this.ratio >= 0 && this.ratio <= 1))
      throw new RangeError('RetryBudget: ratio must be between 0 and 1');
    if (!(this.minPerSecond >= 0)) throw new RangeError('RetryBudget: minPerSecond must be >= 0');
    if (!(windowMs >= BUCKET_MS)) throw new RangeError('RetryBudget: windowMs must be at least 1000');
    this.buckets = Math.round(windowMs / BUCKET_MS);
    this.now = opts.now ?? Date.now;
    this.requests = new Array(this.buckets).fill(0);
    this.retries = new Array(this.buckets).fill(0);
    this.currentStart = this.now();
  }

  /** Counts one request (a first attempt). */
  recordRequest(): void {
    this.rotate();
    this.requests[this.current] = (this.requests[this.current] ?? 0) + 1;
  }

  /** Takes one retry from the budget; false when the budget is spent (do not retry). */
  tryWithdraw(): boolean {
    this.rotate();
    const requests = sum(this.requests);
    const retries = sum(this.retries);
    const allowed = Math.max(this.minPerSecond * this.buckets, this.ratio * requests);
    if (retries + 1 > allowed) return false;
    this.retries[this.current] = (this.retries[this.current] ?? 0) + 1;
    return true;
  }

  private rotate(): void {
    const now = this.now();
    let steps = Math.floor((now - this.currentStart) / BUCKET_MS);
    if (steps <= 0) return;
    this.currentStart += steps * BUCKET_MS;
    steps = Math.min(steps, this.buckets);
    for (let i = 0; i < steps; i++) {
      this.current = (this.current + 1) % this.buckets;
      this.requests[this.current] = 0;
      this.retries[this.current] = 0;
    }
  }
}

function sum(a: number[]): number {
  let s = 0;
  for (const x of a) s += x;
  return s;
}
