import { createHmac, randomBytes } from 'node:crypto';
import type { SignableRequest } from '../../kernel/http/index.js';
import { canonicalString, queryPairs, sha256Hex } from './canonical.js';

export type { SignableRequest };

export const HEADERS = {
  apiKey: 'x-api-key',
  timestamp: 'x-timestamp',
  nonce: 'x-nonce',
  contentSha256: 'content-sha256',
  idempotencyKey: 'idempotency-key',
  signature: 'x-signature',
} as const;

export interface V1SignerOptions {
  apiKey: string;
  /** Secrets to sign with: one `v1=` entry each (several during a rotation overlap). */
  secrets: string[];
  /** Unix-seconds clock; injectable for tests. */
  now?: () => number;
  /** Nonce source; default 16 random bytes as hex. */
  nonce?: () => string;
}

export function hmacHex(secret: string, message: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(message, 'utf8').digest('hex');
}

/** Computes the v1 headers for one attempt. Pure apart from the clock and nonce sources. */
export function signV1(req: SignableRequest, opts: V1SignerOptions): Record<string, string> {
  const timestamp = String(Math.floor(opts.now ? opts.now() : Date.now() / 1000));
  const nonce = opts.nonce ? opts.nonce() : randomBytes(16).toString('hex');
  const bodySha256 = sha256Hex(req.body);
  const idempotencyKey = req.idempotencyKey ?? findHeader(req.headers, HEADERS.idempotencyKey);
  const contentType = req.body && req.body.length > 0 ? findHeader(req.headers, 'content-type') : undefined;
  const canonical = canonicalString({
    method: req.method,
    path: req.url.pathname,
    query: queryPairs(req.url.searchParams),
    apiKey: opts.apiKey,
    timestamp,
    nonce,
    idempotencyKey,
    contentType,
    bodySha256,
  });
  const headers: Record<string, string> = {
    [HEADERS.apiKey]: opts.apiKey,
    [HEADERS.timestamp]: timestamp,
    [HEADERS.nonce]: nonce,
    [HEADERS.contentSha256]: bodySha256,
    [HEADERS.signature]: opts.secrets.map((s) => `v1=${hmacHex(s, canonical)}`).join(', '),
  };
  if (idempotencyKey) headers[HEADERS.idempotencyKey] = idempotencyKey;
  return headers;
}

/**
 * `RequestSigner` (kernel/http) for the payments "v1" scheme. Called on EVERY attempt, so each retry gets
 * a fresh timestamp and nonce while the Idempotency-Key stays the same.
 */
export class V1RequestSigner {
  constructor(private readonly opts: V1SignerOptions) {
    if (!opts.apiKey) throw new RangeError('V1RequestSigner: apiKey is required');
    if (opts.secrets.length === 0 || opts.secrets.some((s) => !s)) {
      throw new RangeError('V1RequestSigner: at least one non-empty secret is required');
    }
  }

  sign(req: SignableRequest): void {
    for (const name of Object.keys(req.headers)) {
      if (
        Object.values(HEADERS).includes(name.toLowerCase() as never) &&
        name.toLowerCase() !== HEADERS.idempotencyKey
      ) {
        delete req.headers[name];
      }
    }
    Object.assign(req.headers, signV1(req, this.opts));
  }
}

function findHeader(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}
