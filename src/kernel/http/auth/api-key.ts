import type { RequestSigner, SignableRequest } from '../types.js';

export interface ApiKeySignerOptions {
  /** The key (a secret from config). */
  key: string;
  /** Header to carry it. Default 'authorization'. */
  header?: string;
  /** Prefix for the authorization header, e.g. 'Bearer' (default for 'authorization') or 'Basic'. */
  scheme?: string;
}

/**
 * Adds a static API key on every attempt (shipping carriers authenticate this way):
 * `Authorization: Bearer <key>` or a custom header such as `X-Api-Key`.
 */
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
