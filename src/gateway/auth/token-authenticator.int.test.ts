import type { FastifyRequest } from 'fastify';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  DEV_PASSWORD,
  ISSUER,
  startUsersHarness,
  type UsersHarness,
} from '../../../test/users/harness.js';
import type { UserServiceIntegration } from '../../integrations/users/index.js';
import { JwksCache } from './jwks-cache.js';
import { TokenAuthenticator } from './token-authenticator.js';

const req = (authorization?: string) =>
  ({ headers: authorization ? { authorization } : {} }) as unknown as FastifyRequest;

describe('TokenAuthenticator (tokens verified locally against the cached JWKS)', () => {
  let h: UsersHarness;
  let users: UserServiceIntegration;
  let auth: TokenAuthenticator;
  let jwksFetches = 0;
  beforeAll(async () => {
    h = await startUsersHarness();
    users = h.client();
    const jwks = new JwksCache({
      fetch: () => {
        jwksFetches++;
        return users.getJwks();
      },
      minRefreshIntervalMs: 0,
    });
    auth = new TokenAuthenticator({ jwks, decider: users, issuer: ISSUER, audience: AUDIENCE });
  });
  afterAll(() => h.stop());

  const login = async (name = 'billing') => (await users.authenticateUser(name, DEV_PASSWORD)).accessToken;

  it('accepts a token from the user service and names the subject and roles', async () => {
    const p = await auth.authenticate(req(`Bearer ${await login()}`));
    expect(p).toEqual({ subject: 'usr_dev_billing', kind: 'user', roles: ['billing'] });
  });

  it('reads the Bearer scheme in any case (RFC 7235: schemes are case-insensitive)', async () => {
    const token = await login();
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const p = await auth.authenticate(req(`${scheme} ${token}`));
      expect(p.subject, scheme).toBe('usr_dev_billing');
    }
  });

  it('verifies many tokens with one key-set fetch', async () => {
    const before = jwksFetches;
    for (let i = 0; i < 3; i++) await auth.authenticate(req(`Bearer ${await login('support')}`));
    expect(jwksFetches - before).toBeLessThanOrEqual(1);
  });

  it('rejects a request without a token, or with a malformed header', async () => {
    await expect(auth.authenticate(req())).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      httpStatus: 401,
    });
    await expect(auth.authenticate(req('Basic YWRtaW46eA=='))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('rejects a tampered token (roles rewritten)', async () => {
    const [h64, , sig] = (await login()).split('.');
    const claims = decodeJwt(await login());
    const forged = Buffer.from(
      JSON.stringify({ ...claims, roles: ['admin'], sub: 'usr_dev_admin' }),
    ).toString('base64url');
    await expect(auth.authenticate(req(`Bearer ${h64}.${forged}.${sig}`))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('rejects a token signed by a key the service never published, even under a known kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const kid = decodeProtectedHeader(await login()).kid!;
    for (const k of [kid, 'key_unknown']) {
      const token = await new SignJWT({ roles: ['admin'] })
        .setProtectedHeader({ alg: 'ES256', kid: k })
        .setSubject('usr_dev_admin')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .setJti('x1')
        .sign(privateKey);
      await expect(auth.authenticate(req(`Bearer ${token}`))).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    }
  });

  it('rejects an unsigned token (alg none)', async () => {
    const claims = decodeJwt(await login());
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    await expect(
      auth.authenticate(req(`Bearer ${enc({ alg: 'none' })}.${enc({ ...claims, roles: ['admin'] })}.x`)),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('rejects an expired token', async () => {
    const later = new TokenAuthenticator({
      jwks: new JwksCache({ fetch: () => users.getJwks() }),
      decider: users,
      issuer: ISSUER,
      audience: AUDIENCE,
      now: () => new Date(Date.now() + 3_600_000),
    });
    const err = await later.authenticate(req(`Bearer ${await login()}`)).catch((e) => e);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(err.message).toMatch(/expired/);
  });

  it('reuses a verified token without checking its signature again, for a bounded time', async () => {
    let clock = Date.now();
    let keyLookups = 0;
    const jwks = new JwksCache({ fetch: () => users.getJwks() });
    const make = (verifiedTokenTtlMs: number) =>
      new TokenAuthenticator({
        jwks: { keyFor: (h) => (keyLookups++, jwks.keyFor(h)) },
        decider: users,
        issuer: ISSUER,
        audience: AUDIENCE,
        verifiedTokenTtlMs,
        now: () => new Date(clock),
      });
    const token = await login();
    const short = make(60_000);
    for (let i = 0; i < 5; i++) await short.authenticate(req(`Bearer ${token}`));
    expect(keyLookups).toBe(1);
    clock += 61_000; // past the reuse window: verified again
    await short.authenticate(req(`Bearer ${token}`));
    expect(keyLookups).toBe(2);

    // A reuse window longer than the token's life still ends at `exp` (+ jose's 30 s tolerance refuses it).
    const long = make(36_000_000);
    clock = Date.now();
    await long.authenticate(req(`Bearer ${token}`));
    clock = decodeJwt(token).exp! * 1000 + 40_000;
    await expect(long.authenticate(req(`Bearer ${token}`))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('rejects a token for another audience', async () => {
    const other = new TokenAuthenticator({
      jwks: new JwksCache({ fetch: () => users.getJwks() }),
      decider: users,
      issuer: ISSUER,
      audience: 'someone-else',
    });
    await expect(other.authenticate(req(`Bearer ${await login()}`))).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  it('picks up a rotated signing key through one refetch', async () => {
    await h.sandbox.tokens.rotate();
    const p = await auth.authenticate(req(`Bearer ${await login('pharmacist')}`));
    expect(p.subject).toBe('usr_dev_pharmacist');
  });

  it('authorizes from the user service’s decision', async () => {
    const p = { subject: 'usr_dev_support', kind: 'user' as const, roles: ['support'] };
    expect(await auth.authorize(p, 'payments:read')).toBe(true);
    expect(await auth.authorize(p, 'payments:create')).toBe(false);
  });
});
