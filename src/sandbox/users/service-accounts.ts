import { type Metadata, status } from '@grpc/grpc-js';
import { decodeProtectedHeader, importJWK, type JWK, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import {
  ERROR_REASONS,
  type Scope,
  SERVICE_ACCOUNT_AUDIENCE,
  SERVICE_ACCOUNT_MAX_TTL_SECONDS,
} from '../../protocols/proto/index.js';
import type { UsersRepository } from './repository.js';

/** `Bearer <token68>`; the scheme is case-insensitive (RFC 7235 §2.1, RFC 6750 §2.1), like the HTTP side. */
const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+)$/i;

/** A gRPC status to answer with (UNAUTHENTICATED or PERMISSION_DENIED). */
export class CallRejected extends Error {
  readonly reason: string;
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.reason =
      code === status.PERMISSION_DENIED ? ERROR_REASONS.scopeMissing : ERROR_REASONS.serviceAccountInvalid;
  }
}

export interface CallerIdentity {
  serviceAccount: string;
  scopes: string[];
}

/**
 * Verifies the `authorization: Bearer <jwt>` metadata of every call against the registered service
 * accounts (public JWK + scopes in um_service_accounts) and checks the scope the RPC needs.
 */
export class ServiceAccountVerifier {
  /**
   * Tokens already verified, until their `exp` (callers reuse one JWT for minutes; verifying an ECDSA
   * signature and reading the account on every call would dominate the cost of a permission check).
   * Entries live at most 30 s so a changed key or scope takes effect quickly.
   */
  private readonly verified = new LRUCache<string, { caller: CallerIdentity; exp: number }>({
    max: 1_000,
    ttl: 30_000,
  });

  constructor(
    private readonly repo: UsersRepository,
    private readonly now: () => Date,
  ) {}

  async verify(metadata: Metadata, scope: Scope): Promise<CallerIdentity> {
    const header = metadata.get('authorization')[0];
    const match = typeof header === 'string' ? BEARER.exec(header.trim()) : null;
    if (!match) throw new CallRejected(status.UNAUTHENTICATED, 'missing service-account bearer token');
    const token = match[1]!;
    const known = this.verified.get(token);
    const caller =
      known && known.exp * 1000 > this.now().getTime() ? known.caller : await this.verifyToken(token);
    if (!caller.scopes.includes(scope)) {
      throw new CallRejected(status.PERMISSION_DENIED, `service account lacks scope ${scope}`);
    }
    return caller;
  }

  private async verifyToken(token: string): Promise<CallerIdentity> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      throw new CallRejected(status.UNAUTHENTICATED, 'malformed service-account token');
    }
    const account = kid ? await this.repo.serviceAccount(kid) : undefined;
    if (!account || !kid) throw new CallRejected(status.UNAUTHENTICATED, 'unknown service account');
    let exp: number;
    try {
      const alg = typeof account.publicJwk.alg === 'string' ? account.publicJwk.alg : 'ES256';
      const key = await importJWK(account.publicJwk as JWK, alg);
      const { payload } = await jwtVerify(token, key, {
        audience: SERVICE_ACCOUNT_AUDIENCE,
        issuer: kid,
        subject: kid,
        algorithms: ['ES256', 'EdDSA'],
        currentDate: this.now(),
        maxTokenAge: SERVICE_ACCOUNT_MAX_TTL_SECONDS,
        requiredClaims: ['exp', 'iat'],
      });
      if (
        typeof payload.exp !== 'number' ||
        typeof payload.iat !== 'number' ||
        payload.exp - payload.iat > SERVICE_ACCOUNT_MAX_TTL_SECONDS
      ) {
        throw new Error('lifetime too long');
      }
      exp = payload.exp;
    } catch {
      throw new CallRejected(status.UNAUTHENTICATED, 'invalid service-account token');
    }
    const caller = { serviceAccount: kid, scopes: account.scopes };
    this.verified.set(token, { caller, exp });
    return caller;
  }
}
