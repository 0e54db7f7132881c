import { createLocalJWKSet, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { TokenIssuer } from './tokens.js';

const base = { issuer: 'carebridge-users', audience: 'carebridge-gateway', ttlSeconds: 900 };

describe('TokenIssuer', () => {
  it('signs with saved keys after a restart, so tokens issued before it still verify', async () => {
    const before = await TokenIssuer.create(base);
    const { token } = await before.issue({ sub: 'usr_dev_billing', roles: ['billing'] });
    const saved = JSON.parse(JSON.stringify(before.savedKeys()));

    const after = await TokenIssuer.create({ ...base, savedKeys: saved });
    expect(after.jwks()).toEqual(before.jwks());
    const verified = await jwtVerify(token, createLocalJWKSet(after.jwks()), {
      issuer: base.issuer,
      audience: base.audience,
    });
    expect(verified.payload.sub).toBe('usr_dev_billing');
    const fresh = await after.issue({ sub: 'usr_dev_admin', roles: ['admin'] });
    await expect(jwtVerify(fresh.token, createLocalJWKSet(before.jwks()))).resolves.toBeTruthy();
  });

  it('ignores saved keys of another algorithm and reports a rotation', async () => {
    const es = await TokenIssuer.create(base);
    let changes = 0;
    const ed = await TokenIssuer.create({
      ...base,
      algorithm: 'EdDSA',
      savedKeys: es.savedKeys(),
      onKeysChanged: () => changes++,
    });
    expect(ed.jwks().keys.map((k) => k.kid)).not.toContain(es.jwks().keys[0]!.kid);
    expect(changes).toBe(1);
    await ed.rotate();
    expect(changes).toBe(2);
  });
});
