import { generateKeyPairSync } from 'node:crypto';
import { jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaultServer } from '../../../../test/support/fault-server.js';
import { Metrics } from '../../telemetry/index.js';
import { createLogger } from '../../telemetry/logger.js';
import { HttpClient } from '../http-client.js';
import { OAuth2ClientCredentials, type OAuth2ClientCredentialsOptions } from './oauth2.js';

const logger = createLogger({ level: 'silent' });
let idp: FaultServer;
let api: FaultServer;
const clients: HttpClient[] = [];

beforeAll(async () => {
  idp = await FaultServer.start();
  api = await FaultServer.start();
});
afterAll(async () => {
  await idp.close();
  await api.close();
});
afterEach(async () => {
  idp.reset();
  api.reset();
  for (const c of clients.splice(0)) await c.close();
  vi.useRealTimers();
});

const http = (signer?: ConstructorParameters<typeof HttpClient>[0]['signer']) => {
  const c = new HttpClient({
    baseUrl: api.url,
    integration: 'payer',
    metrics: new Metrics({ defaultMetrics: false }),
    logger,
    signer,
  });
  clients.push(c);
  return c;
};
const token = (value: string, expiresIn = 3600) => ({
  status: 200,
  body: { access_token: value, token_type: 'Bearer', expires_in: expiresIn },
});
const oauth = (extra: Partial<OAuth2ClientCredentialsOptions> = {}) =>
  new OAuth2ClientCredentials({
    integration: 'payer',
    tokenUrl: `${idp.url}/oauth/token`,
    clientId: 'client id',
    clientSecret: 's3cret:+',
    authMethod: 'client_secret_basic',
    scope: 'eligibility claims',
    http: http(),
    ...extra,
  });
const form = (i: number) => new URLSearchParams(idp.requests[i]?.body ?? '');

describe('OAuth2ClientCredentials', () => {
  it('authenticates with client_secret_basic (form-encoded id and secret)', async () => {
    idp.script(token('t1'));
    expect(await oauth().getToken()).toBe('t1');
    const auth = idp.requests[0]?.headers.authorization as string;
    expect(Buffer.from(auth.replace('Basic ', ''), 'base64').toString()).toBe('client%20id:s3cret%3A%2B');
    expect(Object.fromEntries(form(0))).toEqual({
      grant_type: 'client_credentials',
      scope: 'eligibility claims',
    });
    expect(idp.requests[0]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('authenticates with client_secret_post', async () => {
    idp.script(token('t1'));
    await oauth({ authMethod: 'client_secret_post' }).getToken();
    expect(idp.requests[0]?.headers.authorization).toBeUndefined();
    expect(form(0).get('client_id')).toBe('client id');
    expect(form(0).get('client_secret')).toBe('s3cret:+');
  });

  it('authenticates with a private_key_jwt assertion signed by our key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    idp.script(token('t1'));
    await oauth({
      authMethod: 'private_key_jwt',
      clientSecret: undefined,
      privateKey,
      keyId: 'k1',
    }).getToken();
    expect(form(0).get('client_assertion_type')).toBe(
      'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    );
    const { payload, protectedHeader } = await jwtVerify(
      form(0).get('client_assertion') as string,
      publicKey,
      {
        audience: `${idp.url}/oauth/token`,
        issuer: 'client id',
      },
    );
    expect(payload.sub).toBe('client id');
    expect(payload.jti).toBeTruthy();
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: 'k1' });
  });

  it('caches the token until expiry minus skew and shares one refresh among concurrent callers', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    idp.script({ ...token('t1', 120), delayMs: 50 }, token('t2', 120));
    const o = oauth({ skewSeconds: 30 });
    expect(await Promise.all([o.getToken(), o.getToken(), o.getToken()])).toEqual(['t1', 't1', 't1']);
    expect(idp.requests).toHaveLength(1);
    vi.setSystemTime(Date.now() + 89_000);
    expect(await o.getToken()).toBe('t1');
    vi.setSystemTime(Date.now() + 2_000);
    expect(await o.getToken()).toBe('t2');
    expect(idp.requests).toHaveLength(2);
  });

  it('refreshes once and retries when the API answers 401', async () => {
    idp.script(token('t1'), token('t2'));
    api.script({ status: 401 }, { status: 200, body: { ok: true } });
    const res = await http(oauth()).request({
      method: 'GET',
      path: '/eligibility',
      operation: 'eligibility',
    });
    expect(res.status).toBe(200);
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2']);
  });

  it('fails fast during the cooldown after a failed refresh, then tries again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    idp.script(
      { status: 401, body: { error: 'invalid_client', error_description: 'secret for client id wrong' } },
      token('t1'),
    );
    const o = oauth({ cooldownMs: 10_000 });
    const first = await o.getToken().catch((e) => e);
    expect(first).toMatchObject({
      code: 'UPSTREAM_AUTH_FAILED',
      details: { upstreamStatus: 401, oauthError: 'invalid_client' },
    });
    expect(first.message).not.toContain('secret');
    await expect(o.getToken()).rejects.toBe(first);
    expect(idp.requests).toHaveLength(1);
    vi.setSystemTime(Date.now() + 10_001);
    expect(await o.getToken()).toBe('t1');
  });

  it('passes a token endpoint outage on as a retryable error', async () => {
    idp.script({ status: 503, retryAfter: 3 });
    await expect(oauth().getToken()).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      retryable: true,
      retryAfterSeconds: 3,
    });
  });
});
