import { randomFillSync } from 'node:crypto';
import { monotonicFactory, type PRNG } from 'ulid';

/**
 * Random bytes from a pool refilled 4 KiB at a time. The `ulid` package's own PRNG makes one
 * `crypto.getRandomValues` call (and a fresh Uint8Array) per character, 16 per id, and `ulid()` without a
 * factory even detects its PRNG again on every call: ~3 % of a payment write in the issue #14 profile.
 */
const POOL = Buffer.alloc(4096);
let offset = POOL.length;

/**
 * The `ulid` package's PRNG contract, a fraction in [0, 1), from one pooled byte: the package takes
 * `floor(x * 32)` per character, so each character is the byte's top five bits, uniform over the 32 symbols
 * (16 characters = 80 random bits per id, as with the package's default).
 */
export const pooledRandom: PRNG = () => {
  if (offset === POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  return (POOL[offset++] as number) / 256;
};

/** One monotonic factory per process: ids made in the same millisecond still sort in creation order. */
const next = monotonicFactory(pooledRandom);

/** A ULID (26 characters, Crockford base32), sortable by creation time. */
export function newUlid(): string {
  return next();
}

/** One of our ids, `<prefix>_<ULID>` (`pay_01J…`, `ntf_01J…`); `prefixedUlid` in kernel/schemas checks them. */
export function newId(prefix: string): string {
  return `${prefix}_${next()}`;
}
