import { type CryptoKey, createLocalJWKSet, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

export interface JwksCacheOptions {
  /** Fetches the current key set (the user service's GetJwks). */
  fetch: () => Promise<JSONWebKeySet>;
  /** How long a fetched set is used before it is fetched again. Default 300 000 ms. */
  ttlMs?: number;
  /** An unknown `kid` refetches at most this often (so forged kids cannot hammer the service). Default 30 000 ms. */
  minRefreshIntervalMs?: number;
  now?: () => number;
}

/**
 * The user service's public keys, cached so every request verifies its token locally. A token signed
 * by a key the cache does not know triggers one (rate-limited) refetch, which picks up key rotation.
 */
export class JwksCache {
  private current: { resolver: KeyResolver; fetchedAt: number } | undefined;
  private fetching: Promise<KeyResolver> | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private readonly ttlMs: number;
  private readonly minRefreshMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: JwksCacheOptions) {
    this.ttlMs = opts.ttlMs ?? 300_000;
    this.minRefreshMs = opts.minRefreshIntervalMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  /** The key for a token header: from the cache, refetching once if the kid is unknown or the set is old. */
  async keyFor(header: JWSHeaderParameters): Promise<CryptoKey> {
    const fresh = this.current && this.now() - this.current.fetchedAt < this.ttlMs;
    const resolver = fresh ? this.current!.resolver : await this.refresh(true);
    try {
      return (await resolver(header)) as CryptoKey;
    } catch (err) {
      if (this.now() - this.lastAttempt < this.minRefreshMs) throw err;
      return (await (
        await this.refresh(false)
      )(header)) as CryptoKey;
    }
  }

  /** Fetches the set now (shared between concurrent callers). Falls back to the old set if the fetch fails. */
  async refresh(allowStale: boolean): Promise<KeyResolver> {
    this.fetching ??= (async () => {
      this.lastAttempt = this.now();
      try {
        const resolver = createLocalJWKSet(await this.opts.fetch());
        this.current = { resolver, fetchedAt: this.now() };
        return resolver;
      } catch (err) {
        if (allowStale && this.current) return this.current.resolver;
        throw err;
      } finally {
        this.fetching = undefined;
      }
    })();
    return this.fetching;
  }
}
