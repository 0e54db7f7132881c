import { errors } from '../errors/index.js';
import { resilienceErrors } from './errors.js';

/** Takes one permit per outbound attempt; waits in a bounded queue or fails fast with RATE_LIMIT_QUEUE_FULL. */
export interface RateLimiter {
  acquire(signal?: AbortSignal): Promise<void>;
}

export interface TokenBucketOptions {
  /** Long-run rate (permits per second). */
  ratePerSecond: number;
  /** Bucket size: how many permits may be taken at once after a quiet spell. Default = ratePerSecond (≥ 1). */
  burst?: number;
  /** Callers allowed to wait for a permit; one more fails fast. Default 100. */
  maxQueue?: number;
  /** Names the limiter in errors (e.g. 'payments:acct_main'); never a secret. */
  name?: string;
  now?: () => number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
  cleanup: () => void;
}

/**
 * In-memory token bucket per provider credential: bursts up to `burst`, long-run rate `ratePerSecond`,
 * first-come first-served. For a limit shared by several gateway instances use RedisTokenBucket.
 */
export class TokenBucket implements RateLimiter {
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxQueue: number;
  private readonly name: string;
  private readonly now: () => number;
  private tokens: number;
  private last: number;
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: TokenBucketOptions) {
    this.rate = opts.ratePerSecond;
    this.burst = opts.burst ?? Math.max(1, opts.ratePerSecond);
    this.maxQueue = opts.maxQueue ?? 100;
    this.name = opts.name ?? 'outbound';
    this.now = opts.now ?? Date.now;
    if (!(this.rate > 0)) throw new RangeError('TokenBucket: ratePerSecond must be > 0');
    if (!(this.burst >= 1)) throw new RangeError('TokenBucket: burst must be >= 1');
    if (!(this.maxQueue >= 0)) throw new RangeError('TokenBucket: maxQueue must be >= 0');
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** Permits available right now (for tests and metrics). */
  get available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) {
      const waitSeconds = Math.ceil((this.queue.length + 1 - this.tokens) / this.rate);
      return Promise.reject(
        resilienceErrors.rateLimitQueueFull(
          `The outbound rate limit of ${this.name} is saturated; try again later.`,
          {
            retryAfterSeconds: waitSeconds,
            details: { notSent: true },
          },
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(aborted(this.name));
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(aborted(this.name));
      };
      const waiter: Waiter = {
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(waiter);
      this.schedule();
    });
  }

  private refill(): void {
    const now = this.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }

  private schedule(): void {
    if (this.timer || this.queue.length === 0) return;
    const wait = Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, wait);
    this.timer.unref?.();
  }

  private drain(): void {
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      const w = this.queue.shift() as Waiter;
      this.tokens -= 1;
      w.cleanup();
      w.resolve();
    }
    this.schedule();
  }
}

function aborted(name: string) {
  return errors.upstreamTimeout(`Gave up waiting for the outbound rate limit of ${name}.`, {
    details: { notSent: true },
  });
}
