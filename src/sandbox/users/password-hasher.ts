import { Bulkhead } from '../../kernel/resilience/index.js';
import { DEFAULT_SCRYPT_COST, hashPassword, type ScryptCost, verifyPassword } from './passwords.js';

export interface PasswordHasherOptions {
  /** Default DEFAULT_SCRYPT_COST (N=2^15, r=8, p=1). */
  cost?: ScryptCost;
  /** Derivations running at once. Default 2: half of libuv's default pool of 4 threads. */
  maxConcurrent?: number;
  /** Derivations waiting for a slot; beyond it `hash`/`verify` throw `HashingBusy` at once. Default 32. */
  maxQueued?: number;
}

const KNOWN_OPTIONS = new Set(['cost', 'maxConcurrent', 'maxQueued']);

/**
 * scrypt with bounded concurrency. Node runs scrypt on libuv's thread pool (4 threads by default), which the
 * same process also uses for DNS lookups, file I/O and crypto; a burst of sign-ins used to queue ahead of all
 * of it and stall unrelated requests (the sign-in flood incident). Only `maxConcurrent` derivations hold a
 * thread at once, a bounded number wait, the rest are refused so the caller can answer "busy".
 */
export class PasswordHasher {
  readonly cost: ScryptCost;
  private readonly gate: Bulkhead;

  constructor(opts: PasswordHasherOptions = {}) {
    for (const k of Object.keys(opts))
      if (!KNOWN_OPTIONS.has(k)) throw new RangeError(`PasswordHasher: unknown option ${k}`);
    this.cost = opts.cost ?? DEFAULT_SCRYPT_COST;
    this.gate = new Bulkhead(opts.maxConcurrent ?? 2, opts.maxQueued ?? 32);
  }

  hash(password: string): Promise<string> {
    return this.gated(() => hashPassword(password, this.cost));
  }

  /** Constant-time comparison; a malformed stored hash never matches. */
  verify(password: string, stored: string): Promise<boolean> {
    return this.gated(() => verifyPassword(password, stored));
  }

  /** Derivations holding a thread now. */
  get running(): number {
    return this.gate.running;
  }

  /** Derivations waiting for a thread. */
  get queued(): number {
    return this.gate.queued;
  }

  private async gated<T>(fn: () => Promise<T>): Promise<T> {
    let got: true | Promise<void>;
    try {
      got = this.gate.acquire(undefined);
    } catch {
      throw new HashingBusy();
    }
    if (got !== true) await got;
    try {
      return await fn();
    } finally {
      this.gate.release();
    }
  }
}

/** Every hashing slot and queue place is taken. */
export class HashingBusy extends Error {
  constructor() {
    super('too many password hashes in progress');
  }
}
