import { randomUUID } from 'node:crypto';
import { type CryptoKey, importPKCS8, type KeyObject, SignJWT } from 'jose';
import { SERVICE_ACCOUNT_AUDIENCE } from '../../protocols/proto/index.js';

export interface ServiceAccountCredentials {
  /** The account id, e.g. `svc_gateway`. */
  id: string;
  /** PKCS#8 PEM private key (EC P-256 for ES256, Ed25519 for EdDSA), or an imported key. */
  privateKey: string | CryptoKey | KeyObject;
  algorithm?: 'ES256' | 'EdDSA';
  /** Lifetime of each signed JWT; default 300 s. It is re-signed a minute before it expires. */
  ttlSeconds?: number;
}

/**
 * Signs the service-account JWT sent as `authorization: Bearer …` on every call, and reuses it until a
 * minute before expiry (so calls do not pay an ECDSA signature each).
 */
export class ServiceAccountSigner {
  private cached: { token: string; refreshAt: number } | undefined;
  private key: Promise<CryptoKey | KeyObject>;
  private readonly alg: 'ES256' | 'EdDSA';
  private readonly ttl: number;

  constructor(
    private readonly creds: ServiceAccountCredentials,
    private readonly now: () => number = Date.now,
  ) {
    this.alg = creds.algorithm ?? 'ES256';
    this.ttl = creds.ttlSeconds ?? 300;
    if (this.ttl < 120 || this.ttl > 3600) throw new RangeError('ttlSeconds must be between 120 and 3600');
    this.key =
      typeof creds.privateKey === 'string'
        ? importPKCS8(creds.privateKey, this.alg)
        : Promise.resolve(creds.privateKey);
  }

  get accountId(): string {
    return this.creds.id;
  }

  async token(): Promise<string> {
    const now = this.now();
    if (this.cached && now < this.cached.refreshAt) return this.cached.token;
    const iat = Math.floor(now / 1000);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: this.alg, kid: this.creds.id, typ: 'JWT' })
      .setIssuer(this.creds.id)
      .setSubject(this.creds.id)
      .setAudience(SERVICE_ACCOUNT_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttl)
      .setJti(randomUUID())
      .sign(await this.key);
    this.cached = { token, refreshAt: now + (this.ttl - 60) * 1000 };
    return token;
  }

  /** Forget the cached JWT (after the service answered UNAUTHENTICATED). */
  invalidate(): void {
    this.cached = undefined;
  }
}
