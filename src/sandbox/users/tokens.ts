import { randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  SignJWT,
} from 'jose';

export type TokenAlgorithm = 'ES256' | 'EdDSA';

export interface AccessTokenClaims {
  sub: string;
  roles: string[];
}

/** A signing key as saved under the data dir (development only: it lets tokens outlive a restart). */
export interface SavedSigningKey {
  kid: string;
  algorithm: TokenAlgorithm;
  privateJwk: JWK;
  publicJwk: Record<string, unknown>;
}

/**
 * Signs user access tokens with a key generated at start (or the saved keys of the previous run); rotate()
 * adds a new one and keeps the old public key in the JWKS so tokens already issued still verify until they
 * expire.
 */
export class TokenIssuer {
  private keys: Array<{
    kid: string;
    privateKey: CryptoKey;
    privateJwk: JWK;
    publicJwk: Record<string, unknown>;
  }> = [];

  private constructor(
    readonly issuer: string,
    readonly audience: string,
    readonly ttlSeconds: number,
    readonly algorithm: TokenAlgorithm,
    private readonly now: () => Date,
    private readonly onKeysChanged: () => void,
  ) {}

  static async create(opts: {
    issuer: string;
    audience: string;
    ttlSeconds: number;
    algorithm?: TokenAlgorithm;
    now?: () => Date;
    /** Keys of a previous run, newest first; those of another algorithm are ignored. */
    savedKeys?: readonly SavedSigningKey[];
    /** Called after `rotate` (to save the keys). */
    onKeysChanged?: () => void;
  }): Promise<TokenIssuer> {
    const issuer = new TokenIssuer(
      opts.issuer,
      opts.audience,
      opts.ttlSeconds,
      opts.algorithm ?? 'ES256',
      opts.now ?? (() => new Date()),
      opts.onKeysChanged ?? (() => {}),
    );
    for (const k of opts.savedKeys ?? []) {
      if (k.algorithm !== issuer.algorithm || issuer.keys.length >= 3) continue;
      const privateKey = (await importJWK(k.privateJwk, k.algorithm, { extractable: true })) as CryptoKey;
      issuer.keys.push({ kid: k.kid, privateKey, privateJwk: k.privateJwk, publicJwk: k.publicJwk });
    }
    if (issuer.keys.length === 0) await issuer.rotate();
    return issuer;
  }

  /** The signing keys, newest first, to save. */
  savedKeys(): SavedSigningKey[] {
    return this.keys.map((k) => ({
      kid: k.kid,
      algorithm: this.algorithm,
      privateJwk: k.privateJwk,
      publicJwk: k.publicJwk,
    }));
  }

  /** Adds a new signing key; the previous public keys stay published. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(this.algorithm, { extractable: true });
    const kid = `key_${randomUUID()}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: this.algorithm, use: 'sig' };
    const privateJwk = await exportJWK(privateKey);
    this.keys.unshift({ kid, privateKey, privateJwk, publicJwk });
    this.keys = this.keys.slice(0, 3);
    this.onKeysChanged();
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
