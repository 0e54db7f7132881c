import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { RequestSigner, SignableRequest } from '../types.js';

/** HMAC-SHA256 of `data` with `secret`, hex (default) or base64/base64url. */
export function hmacSha256(
  secret: string | Buffer,
  data: string | Buffer,
  encoding: 'hex' | 'base64' | 'base64url' = 'hex',
): string {
  return createHmac('sha256', secret).update(data).digest(encoding);
}

/** sha256 of a body (empty for none), hex: the usual "content hash" line of a canonical string. */
export function bodySha256(body: Buffer | string | undefined): string {
  return createHash('sha256')
    .update(body ?? '')
    .digest('hex');
}

/** Constant-time comparison of two signatures of the same encoding. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface HmacSignerOptions {
  secret: string | Buffer;
  /** Header that carries the signature. */
  header: string;
  /** Builds the string to sign from the request and this attempt's timestamp (unix seconds) and nonce. */
  canonical: (req: SignableRequest, ctx: { timestamp: number; nonce: string }) => string;
  /** Formats the header value. Default: the signature alone. */
  format?: (signature: string, ctx: { timestamp: number; nonce: string }) => string;
  /** Also send the timestamp / nonce in these headers. */
  timestampHeader?: string;
  nonceHeader?: string;
  encoding?: 'hex' | 'base64' | 'base64url';
  now?: () => number;
}

/**
 * A generic HMAC-SHA256 request signer. Runs on every attempt, so a retry carries a fresh timestamp and
 * nonce (providers reject replays of old signatures). Provider schemes (e.g. the payments "v1" scheme in
 * protocols/signing) supply `canonical` and `format`.
 */
export function hmacSigner(opts: HmacSignerOptions): RequestSigner {
  const header = opts.header.toLowerCase();
  return {
    sign(req) {
      const ctx = { timestamp: Math.floor((opts.now ?? Date.now)() / 1000), nonce: randomUUID() };
      if (opts.timestampHeader) req.headers[opts.timestampHeader.toLowerCase()] = String(ctx.timestamp);
      if (opts.nonceHeader) req.headers[opts.nonceHeader.toLowerCase()] = ctx.nonce;
      const sig = hmacSha256(opts.secret, opts.canonical(req, ctx), opts.encoding ?? 'hex');
      req.headers[header] = opts.format ? opts.format(sig, ctx) : sig;
    },
  };
}
