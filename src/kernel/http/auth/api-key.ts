import type { RequestSigner, SignableRequest } from '../types.js';

export interface ApiKeySignerOptions {
  /** The key (a secret from config). */
  key: string;
  /** Header to carry it. Default 'authorization'. */
  header?: string;
  /** Prefix for the authorization header, e.g. 'Bearer' (default for 'authorization') or 'Basic'. */
  scheme?: string;
}

/** Adds a static API key on every attempt: `Authorization: Bearer <key>` or a custom header such as `X-Api-Key`. */
export function apiKeySigner(opts: ApiKeySignerOptions): RequestSigner {
  if (!opts.key) throw new RangeError('apiKeySigner: key is required');
  const header = (opts.header ?? 'authorization').toLowerCase();
  const scheme = opts.scheme ?? (header === 'authorization' ? 'Bearer' : undefined);
  const value = scheme ? `${scheme} ${opts.key}` : opts.key;
  return {
    sign(req: SignableRequest) {
      req.headers[header] = value;
    },
  };
}

/** Runs several signers in order (e.g. an API key, then an HMAC over the final headers). */
export function chainSigners(...signers: RequestSigner[]): RequestSigner {
  return {
    async sign(req) {
      for (const s of signers) await s.sign(req);
    },
    async refreshOnUnauthorized(req) {
      let any = false;
      for (const s of signers)
        if (s.refreshOnUnauthorized && (await s.refreshOnUnauthorized(req))) any = true;
      return any;
    },
  };
}
