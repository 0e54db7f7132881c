import { z } from 'zod';

/** Crockford base32, 26 characters: what the `ulid` package makes (no I, L, O, U). */
export const ULID_PATTERN = '[0-9A-HJKMNP-TV-Z]{26}';

/**
 * One of our ids, `<prefix>_<ULID>` (e.g. `pay_01J…`), exactly: a malformed id is a 400 naming the field
 * before any lookup, never a query with whatever the path held.
 */
export function prefixedUlid(prefix: string, what: string): z.ZodString {
  return z
    .string()
    .max(prefix.length + 27, { error: `expected ${what} id (${prefix}_ and a 26-character ULID)` })
    .regex(new RegExp(`^${prefix}_${ULID_PATTERN}$`), {
      error: `expected ${what} id (${prefix}_ and a 26-character ULID)`,
    });
}

/**
 * Someone else's id or token: 1 to `max` characters of letters, digits, `_` and `-` (what processors such
 * as Stripe use: `evt_…`, `ch_…`). Bounded, so it always fits an index row.
 */
export function opaqueToken(max: number, what: string): z.ZodString {
  return z
    .string()
    .min(1, { error: `expected ${what}` })
    .max(max, { error: `expected ${what} of at most ${max} characters` })
    .regex(/^[A-Za-z0-9_-]+$/, { error: `expected ${what} (letters, digits, _ and -)` });
}
