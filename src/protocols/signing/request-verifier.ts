import { timingSafeEqual } from 'node:crypto';
import { canonicalString, sha256Hex } from './canonical.js';
import { HEADERS, hmacHex } from './request-signer.js';

/** Every way a v1-signed request can be refused; each is a 401 with this code. */
export type V1FailureCode =
  | 'missing_signature_header'
  | 'invalid_api_key'
  | 'timestamp_out_of_tolerance'
  | 'body_digest_mismatch'
  | 'signature_mismatch'
  | 'nonce_reused';

export type V1VerifyResult =
  | { ok: true; apiKey: string }
  | { ok: false; code: V1FailureCode; message: string };

export interface V1VerifyInput {
  method: string;
  path: string;
  query: Array<[string, string]>;
  /** Lower-cased header names (Node's IncomingHttpHeaders). */
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer | undefined;
}

export interface NonceStore {
  /** Records the nonce; false when it was already recorded (a replay). Called only after a valid signature. */
  claim(apiKey: string, nonce: string, ttlSeconds: number): boolean | Promise<boolean>;
}

export interface V1VerifyOptions {
  /** Active secrets for an API key (current plus previous during rotation); undefined = unknown/revoked. */
  secretsFor(apiKey: string): string[] | undefined;
  nonces: NonceStore;
  nowSeconds: number;
  toleranceSeconds?: number;
}

export const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * Server-side verification in a fixed order (reference §6.2) so failures leak nothing about later checks:
 * headers → key → timestamp → body digest → signature (constant time, every active secret) → nonce.
 */
export async function verifyV1Request(input: V1VerifyInput, opts: V1VerifyOptions): Promise<V1VerifyResult> {
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const h = (name: string) => {
    const v = input.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const apiKey = h(HEADERS.apiKey);
  const timestamp = h(HEADERS.timestamp);
  const nonce = h(HEADERS.nonce);
  const digest = h(HEADERS.contentSha256);
  const signatureHeader = h(HEADERS.signature);
  if (!apiKey || !timestamp || !nonce || !digest || !signatureHeader) {
    const missing = Object.entries({
      'X-Api-Key': apiKey,
      'X-Timestamp': timestamp,
      'X-Nonce': nonce,
      'Content-SHA256': digest,
      'X-Signature': signatureHeader,
    })
      .filter(([, v]) => !v)
      .map(([k]) => k);
    return fail('missing_signature_header', `Missing signing header(s): ${missing.join(', ')}.`);
  }
  const secrets = opts.secretsFor(apiKey);
  if (!secrets || secrets.length === 0) return fail('invalid_api_key', 'The API key is unknown or revoked.');

  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(opts.nowSeconds - Number(timestamp)) > tolerance) {
    return fail(
      'timestamp_out_of_tolerance',
      `X-Timestamp must be within ${tolerance} s of the server clock.`,
    );
  }
  const actualDigest = sha256Hex(input.rawBody);
  if (!safeEqualHex(actualDigest, digest.toLowerCase())) {
    return fail('body_digest_mismatch', 'Content-SHA256 does not match the request body.');
  }
  const given = parseSignatureHeader(signatureHeader);
  const canonical = canonicalString({
    method: input.method,
    path: input.path,
    query: input.query,
    apiKey,
    timestamp,
    nonce,
    idempotencyKey: h(HEADERS.idempotencyKey),
    contentType: input.rawBody && input.rawBody.length > 0 ? h('content-type') : undefined,
    bodySha256: actualDigest,
  });
  let matched = false;
  for (const secret of secrets) {
    const expected = hmacHex(secret, canonical);
    // No early exit: every candidate is compared, so timing does not tell which secret matched.
    for (const sig of given) if (safeEqualHex(expected, sig)) matched = true;
  }
  if (!matched) return fail('signature_mismatch', 'X-Signature does not match the canonical request.');

  // Stored only now: unauthenticated junk cannot fill the nonce store.
  if (!(await opts.nonces.claim(apiKey, nonce, tolerance * 2))) {
    return fail('nonce_reused', 'This X-Nonce was already used; sign every attempt with a fresh nonce.');
  }
  return { ok: true, apiKey };
}

/** `v1=<hex>[, v1=<hex>]`; unknown schemes are ignored (no downgrade). */
export function parseSignatureHeader(header: string): string[] {
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('v1='))
    .map((p) => p.slice(3).toLowerCase());
}

/** Constant-time comparison of two hex strings; lengths are checked first (they are not secret). */
export function safeEqualHex(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

function fail(code: V1FailureCode, message: string): V1VerifyResult {
  return { ok: false, code, message };
}

/** An in-memory nonce store with expiry, for simulators and single-instance servers. */
export class MemoryNonceStore implements NonceStore {
  private readonly seen = new Map<string, number>();
  constructor(private readonly nowSeconds: () => number) {}

  claim(apiKey: string, nonce: string, ttlSeconds: number): boolean {
    const now = this.nowSeconds();
    if (this.seen.size > 10_000) for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
    const key = `${apiKey}:${nonce}`;
    const exp = this.seen.get(key);
    if (exp !== undefined && exp > now) return false;
    this.seen.set(key, now + ttlSeconds);
    return true;
  }

  clear(): void {
    this.seen.clear();
  }
}
