import { createHash } from 'node:crypto';

/**
 * The "v1" canonical request (docs/integrations/payments.md, reference §6.2): newline-joined, no trailing
 * newline. SigV4-style normalisation, plus the nonce and the Idempotency-Key so neither can be swapped.
 */
export interface CanonicalParts {
  method: string;
  /** The request path without the query, e.g. `/api/v1/charges`. */
  path: string;
  /** Query parameters as they travel (one entry per occurrence). */
  query: Array<[string, string]>;
  apiKey: string;
  timestamp: string;
  nonce: string;
  idempotencyKey: string | undefined;
  contentType: string | undefined;
  /** Hex SHA-256 of the raw body bytes (SHA-256 of "" when there is no body). */
  bodySha256: string;
}

export const SIGNATURE_SCHEME = 'v1';
export function sha256Hex(body: Buffer | string | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

/** RFC 3986 unreserved characters stay; everything else is percent-encoded (uppercase hex). */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Removes dot-segments, collapses empty segments and encodes each segment exactly once. */
export function canonicalPath(path: string): string {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '' || raw === '.') continue;
    if (raw === '..') {
      out.pop();
      continue;
    }
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // A malformed escape is signed as given (encoded once); the signature then simply won't match.
    }
    out.push(rfc3986(decoded));
  }
  return `/${out.join('/')}`;
}

/** Sorted by name, then value, each encoded; joined with `&`. */
export function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function canonicalString(p: CanonicalParts): string {
  return [
    SIGNATURE_SCHEME,
    p.method.toUpperCase(),
    canonicalPath(p.path),
    canonicalQuery(p.query),
    p.apiKey,
    p.timestamp,
    p.nonce,
    p.idempotencyKey ?? '',
    (p.contentType ?? '').trim().toLowerCase(),
    p.bodySha256,
  ].join('\n');
}

/** Splits `?a=1&b=2` (or a URLSearchParams) into ordered pairs. */
export function queryPairs(search: string | URLSearchParams): Array<[string, string]> {
  const params =
    typeof search === 'string'
      ? new URLSearchParams(search.startsWith('?') ? search.slice(1) : search)
      : search;
  return [...params.entries()];
}
