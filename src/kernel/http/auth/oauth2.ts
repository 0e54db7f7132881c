import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { type CareBridgeError, errors, isCareBridgeError } from '../../errors/index.js';
import { resilienceErrors } from '../../resilience/index.js';
import { upstreamStatusError } from '../errors.js';
import type { HttpClient } from '../http-client.js';
import type { RequestSigner, SignableRequest } from '../types.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';

export interface OAuth2ClientCredentialsOptions {
  /** Used in errors and logs. */
  integration: string;
  /** Absolute URL of the token endpoint (also the `aud` of a private_key_jwt assertion unless `assertionAudience`). */
  tokenUrl: string;
  clientId: string;
  authMethod: ClientAuthMethod;
  /** For client_secret_basic and client_secret_post. */
  clientSecret?: string;
  /** For private_key_jwt: PKCS#8 PEM or a KeyObject. */
  privateKey?: string | KeyObject;
  /** JWS algorithm of the assertion. Default RS256. */
  signingAlg?: 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'ES256' | 'ES384' | 'EdDSA';
  keyId?: string;
  assertionAudience?: string;
  scope?: string;
  /** Extra form parameters (e.g. `audience` or `resource`). */
  extraParams?: Record<string, string>;
  /** A token is refreshed this long before it expires. Default 30 s. */
  skewSeconds?: number;
  /** After a failed refresh, fail fast for this long instead of hammering the token endpoint. Default 5 s. */
  cooldownMs?: number;
  /** Timeout of one token request. Default 10 s. */
  timeoutMs?: number;
  /** The HttpClient that reaches the token endpoint (absolute URLs get their own pool). */
  http: HttpClient;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * OAuth 2.0 client-credentials grant (RFC 6749 §4.4) with client_secret_basic, client_secret_post or
 * private_key_jwt (RFC 7523) client authentication, as a RequestSigner:
 * - the token is cached until `expires_in` minus a skew;
 * - concurrent callers share one refresh (single flight);
 * - a 401 from the API drops the token and HttpClient retries once with a fresh one;
 * - a failed refresh starts a cooldown during which callers fail fast with the same error.
 */
export class OAuth2ClientCredentials implements RequestSigner {
  private token: CachedToken | undefined;
  private refreshing: Promise<string> | undefined;
  private failure: { error: CareBridgeError; until: number } | undefined;
  private readonly now: () => number;
  private readonly key: KeyObject | undefined;

  constructor(private readonly options: OAuth2ClientCredentialsOptions) {
    this.now = options.now ?? Date.now;
    if (options.authMethod === 'private_key_jwt') {
      if (!options.privateKey)
        throw new RangeError('OAuth2ClientCredentials: private_key_jwt needs privateKey');
      this.key =
        typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
    } else if (!options.clientSecret) {
      throw new RangeError(`OAuth2ClientCredentials: ${options.authMethod} needs clientSecret`);
    }
    if (!/^https?:\/\//.test(options.tokenUrl))
      throw new RangeError('OAuth2ClientCredentials: tokenUrl must be an absolute URL');
  }

  /** A valid access token, from the cache or from one shared refresh. */
  async getToken(): Promise<string> {
    const now = this.now();
    if (this.token && now < this.token.expiresAt - (this.options.skewSeconds ?? 30) * 1000)
      return this.token.value;
    if (this.refreshing) return this.refreshing;
    if (this.failure && now < this.failure.until) throw this.failure.error;
    this.refreshing = this.fetchToken()
      .then((t) => {
        this.token = t;
        this.failure = undefined;
        return t.value;
      })
      .catch((err: unknown) => {
        const error = isCareBridgeError(err)
          ? err
          : errors.upstreamError(`Token request to ${this.options.integration} failed.`, { cause: err });
        this.failure = { error, until: this.now() + (this.options.cooldownMs ?? 5_000) };
        throw error;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Forgets the cached token (e.g. after the provider revoked it). */
  invalidate(): void {
    this.token = undefined;
  }

  async sign(req: SignableRequest): Promise<void> {
    req.headers.authorization = `Bearer ${await this.getToken()}`;
  }

  async refreshOnUnauthorized(req: SignableRequest): Promise<boolean> {
    // Only drop the token the rejected request carried; a concurrent refresh may already have replaced it.
    if (this.token && req.headers.authorization === `Bearer ${this.token.value}`) this.token = undefined;
    if (this.failure && this.now() < this.failure.until) return false;
    return true;
  }

  private async fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (this.options.scope) form.set('scope', this.options.scope);
    for (const [k, v] of Object.entries(this.options.extraParams ?? {})) form.set(k, v);
    const headers: Record<string, string> = {};
    if (this.options.authMethod === 'client_secret_basic') {
      // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
      const creds = `${encodeURIComponent(this.options.clientId)}:${encodeURIComponent(this.options.clientSecret as string)}`;
      headers.authorization = `Basic ${Buffer.from(creds).toString('base64')}`;
    } else if (this.options.authMethod === 'client_secret_post') {
      form.set('client_id', this.options.clientId);
      form.set('client_secret', this.options.clientSecret as string);
    } else {
      form.set('client_id', this.options.clientId);
      form.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      form.set('client_assertion', await this.assertion());
    }
    const res = await this.options.http.request<Record<string, unknown>>({
      method: 'POST',
      path: this.options.tokenUrl,
      body: form.toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers,
      operation: 'oauthToken',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const transient = upstreamStatusError(res, this.options.integration);
    if (transient) throw transient;
    const body = typeof res.body === 'object' && res.body !== null ? res.body : {};
    if (res.status !== 200 || typeof body.access_token !== 'string') {
      // The OAuth error code (invalid_client, invalid_scope …) is safe to surface; the description is not kept.
      const oauthError = typeof body.error === 'string' ? body.error.slice(0, 64) : undefined;
      throw resilienceErrors.authFailed(`${this.options.integration} refused our client credentials.`, {
        integration: this.options.integration,
        details: { upstreamStatus: res.status, oauthError },
      });
    }
    const expiresIn =
      typeof body.expires_in === 'number' ? body.expires_in : Number(body.expires_in ?? 3600) || 3600;
    return { value: body.access_token, expiresAt: this.now() + expiresIn * 1000 };
  }

  private assertion(): Promise<string> {
    const now = Math.floor(this.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({
        alg: this.options.signingAlg ?? 'RS256',
        ...(this.options.keyId ? { kid: this.options.keyId } : {}),
      })
      .setIssuer(this.options.clientId)
      .setSubject(this.options.clientId)
      .setAudience(this.options.assertionAudience ?? this.options.tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(this.key as KeyObject);
  }
}
