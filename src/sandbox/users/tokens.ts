import { randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';

export type TokenAlgorithm = 'ES256' | 'EdDSA';

export interface AccessTokenClaims {
  sub: string;
  roles: string[];
}

/**
 * Signs user access tokens with a key generated at start (kept in memory; rotate() adds a new one and
 * keeps the old public key in the JWKS so tokens already issued still verify until they expire).
 */
export class TokenIssuer {
  private keys: Array<{ kid: string; privateKey: CryptoKey; publicJwk: Record<string, unknown> }> = [];

  private constructor(
    readonly issuer: string,
    readonly audience: string,
    readonly ttlSeconds: number,
    readonly algorithm: TokenAlgorithm,
    private readonly now: () => Date,
  ) {}

  static async create(opts: {
    issuer: string;
    audience: string;
    ttlSeconds: number;
    algorithm?: TokenAlgorithm;
    now?: () => Date;
  }): Promise<TokenIssuer> {
    const issuer = new TokenIssuer(
      opts.issuer,
      opts.audience,
      opts.ttlSeconds,
      opts.algorithm ?? 'ES256',
      opts.now ?? (() => new Date()),
    );
    await issuer.rotate();
    return issuer;
  }

  /** Adds a new signing key; the previous public keys stay published. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(this.algorithm, { extractable: true });
    const kid = `key_${randomUUID()}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: this.algorithm, use: 'sig' };
    this.keys.unshift({ kid, privateKey, publicJwk });
    this.keys = this.keys.slice(0, 3);
    return kid;
  }

  async issue(claims: AccessTokenClaims): Promise<{ token: string; expiresIn: number }> {
    const key = this.keys[0]!;
    const iat = Math.floor(this.now().getTime() / 1000);
    const token = await new SignJWT({ roles: claims.roles })
      .setProtectedHeader({ alg: this.algorithm, kid: key.kid, typ: 'at+jwt' })
      .setSubject(claims.sub)
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: this.ttlSeconds };
  }

  jwks(): JSONWebKeySet {
    return { keys: this.keys.map((k) => k.publicJwk) } as JSONWebKeySet;
  }
}
