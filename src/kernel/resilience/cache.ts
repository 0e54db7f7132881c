import { LRUCache } from 'lru-cache';
import type { Counter } from 'prom-client';
import { hashRequest } from '../store/index.js';
import type { Metrics } from '../telemetry/index.js';

export interface ResponseCacheOptions {
  /** Names the cache in metrics (bounded: e.g. 'carrier.rates'). */
  name: string;
  /** Most entries kept (LRU beyond). */
  max: number;
  /** Fresh for this long (ms). */
  ttlMs: number;
  /** After ttl, an entry may still be served, marked stale, when loading fails (stale-if-error). Default 0: off. */
  staleIfErrorMs?: number;
  /** Optional bound on total size: entries weigh JSON length (≈ bytes). */
  maxSizeBytes?: number;
  metrics: Metrics;
  now?: () => number;
}

export interface CacheResult<V> {
  value: V;
  /** True when the upstream failed and this is an older answer (stale-if-error). */
  stale: boolean;
  /** How old the value is (ms). */
  ageMs: number;
}

interface Entry<V> {
  value: V;
  storedAt: number;
}

/**
 * A bounded TTL + LRU cache for upstream answers, with single flight (concurrent identical requests share
 * one upstream call) and optional stale-if-error (RFC 5861's idea). Keys are sha256 of the request's parts,
 * so no PHI (member ids, names) sits in memory as a key or reaches metrics.
 */
export class ResponseCache<V extends NonNullable<unknown>> {
  private readonly lru: LRUCache<string, Entry<V>>;
  private readonly inflight = new Map<string, Promise<CacheResult<V>>>();
  private readonly now: () => number;
  private readonly requests: Counter<'cache' | 'outcome'>;

  constructor(private readonly options: ResponseCacheOptions) {
    if (!(options.max >= 1 && options.ttlMs > 0))
      throw new RangeError('ResponseCache: max must be >= 1 and ttlMs > 0');
    this.now = options.now ?? Date.now;
    this.lru = new LRUCache<string, Entry<V>>({
      max: options.max,
      ...(options.maxSizeBytes
        ? {
            maxSize: options.maxSizeBytes,
            sizeCalculation: (e: Entry<V>) => Math.max(1, JSON.stringify(e.value)?.length ?? 1),
          }
        : {}),
    });
    this.requests = options.metrics.counter(
      'carebridge_resilience_cache_requests_total',
      'Cache lookups by outcome.',
      ['cache', 'outcome'],
    );
  }

  /** The hashed key for a request's identifying parts (any JSON-able value). */
  static key(parts: unknown): string {
    return hashRequest(parts);
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * The cached value when fresh; otherwise `load()` once for all concurrent callers of the same key. When
   * `load` fails and a stale entry is within `staleIfErrorMs`, that entry is returned with `stale: true`.
   */
  async get(parts: unknown, load: () => Promise<V>): Promise<CacheResult<V>> {
    const key = ResponseCache.key(parts);
    const hit = this.lru.get(key);
    const now = this.now();
    if (hit && now - hit.storedAt < this.options.ttlMs) {
      this.requests.inc({ cache: this.options.name, outcome: 'hit' });
      return { value: hit.value, stale: false, ageMs: now - hit.storedAt };
    }
    const running = this.inflight.get(key);
    if (running) {
      this.requests.inc({ cache: this.options.name, outcome: 'coalesced' });
      return running;
    }
    this.requests.inc({ cache: this.options.name, outcome: 'miss' });
    const p = this.load(key, load).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** Drops one entry (e.g. after a write changed it). */
  delete(parts: unknown): void {
    this.lru.delete(ResponseCache.key(parts));
  }

  clear(): void {
    this.lru.clear();
  }

  private async load(key: string, load: () => Promise<V>): Promise<CacheResult<V>> {
    try {
      const value = await load();
      this.lru.set(key, { value, storedAt: this.now() });
      return { value, stale: false, ageMs: 0 };
    } catch (err) {
      const old = this.lru.get(key);
      const age = old ? this.now() - old.storedAt : Number.POSITIVE_INFINITY;
      if (old && age < this.options.ttlMs + (this.options.staleIfErrorMs ?? 0)) {
        this.requests.inc({ cache: this.options.name, outcome: 'stale' });
        return { value: old.value, stale: true, ageMs: age };
      }
      throw err;
    }
  }
}
