import { errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { errors, isCareBridgeError } from '../../kernel/errors/index.js';
import type { Authenticator, FastifyRequest, Principal } from '../types.js';
import type { JwksCache } from './jwks-cache.js';

export interface PermissionDecider {
  checkPermission(check: { subject: string; resource: string; action: string }): Promise<boolean>;
}

export interface TokenAuthenticatorOptions {
  jwks: Pick<JwksCache, 'keyFor'>;
  /** Where decisions come from (UserServiceIntegration: cached, fails closed). */
  decider: PermissionDecider;
  issuer: string;
  audience: string;
  /** Allowed clock skew. Default 30 s. */
  clockToleranceSeconds?: number;
  /**
   * How long a verified token is reused without checking its signature again (never past its `exp`); bounds
   * how long a token signed by a key the user service withdrew keeps working. Default 60 000 ms; 0 turns it off.
   */
  verifiedTokenTtlMs?: number;
  /** Most verified tokens remembered. Default 10 000. */
  verifiedTokenMax?: number;
  now?: () => Date;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;

function invalid(detail: string, error: 'invalid_request' | 'invalid_token') {
  return errors.unauthenticated(detail, {
    headers: { 'WWW-Authenticate': `Bearer realm="carebridge", error="${error}"` },
  });
}

/**
 * Bearer access tokens issued by the user service, verified locally (signature against the cached JWKS,
 * issuer, audience, expiry, ES256/EdDSA only); permissions are decided by the user service.
 */
export class TokenAuthenticator implements Authenticator {
  /** Signature checks are the costliest step of a read (~10 % of it); a caller reuses its token many times. */
  private readonly verified: LRUCache<string, { principal: Principal; untilMs: number }> | undefined;

  constructor(private readonly opts: TokenAuthenticatorOptions) {
    const ttl = opts.verifiedTokenTtlMs ?? 60_000;
    if (!(ttl >= 0)) throw new RangeError('verifiedTokenTtlMs must be >= 0');
    this.verified = ttl > 0 ? new LRUCache({ max: opts.verifiedTokenMax ?? 10_000 }) : undefined;
  }

  private nowMs(): number {
    return this.opts.now ? this.opts.now().getTime() : Date.now();
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (!header)
      throw invalid(
        'Send a bearer token: Authorization: Bearer <token> (POST /v1/auth/token).',
        'invalid_request',
      );
    const match = BEARER.exec(header.trim());
    if (!match) throw invalid('The Authorization header is not a bearer JWT.', 'invalid_request');
    const token = match[1]!;
    const hit = this.verified?.get(token);
    if (hit) {
      if (this.nowMs() < hit.untilMs) return hit.principal;
      this.verified?.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, (h) => this.opts.jwks.keyFor(h), {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        algorithms: ['ES256', 'EdDSA'],
        // RFC 9068 access tokens only: a service-account JWT or an ID token cannot stand in for one.
        typ: 'at+jwt',
        clockTolerance: this.opts.clockToleranceSeconds ?? 30,
        requiredClaims: ['sub', 'exp', 'jti'],
        ...(this.opts.now ? { currentDate: this.opts.now() } : {}),
      });
      const roles = Array.isArray(payload.roles)
        ? payload.roles.filter((r): r is string => typeof r === 'string')
        : [];
      const principal: Principal = { subject: payload.sub!, kind: 'user', roles };
      if (this.verified) {
        const ttl = this.opts.verifiedTokenTtlMs ?? 60_000;
        this.verified.set(token, { principal, untilMs: Math.min(payload.exp! * 1000, this.nowMs() + ttl) });
      }
      return principal;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw invalid('The token has expired; get a new one.', 'invalid_token');
      if (isCareBridgeError(err)) {
        // The key set could not be fetched at all: we cannot tell a good token from a bad one.
        throw errors.dependencyDown('The identity service is unreachable; tokens cannot be verified.', {
          cause: err,
        });
      }
      throw invalid('The token is invalid.', 'invalid_token');
    }
  }

  /** Errors (service unreachable beyond the cache) propagate as retryable CareBridgeErrors: the request is denied. */
  async authorize(principal: Principal, permission: string): Promise<boolean> {
    const [resource, action] = permission.split(':') as [string, string];
    return this.opts.decider.checkPermission({ subject: principal.subject, resource, action });
  }
}
