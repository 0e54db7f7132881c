import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './passwords.js';
import { grantCovers, grantsCover, isPermission, SEEDED_ROLES } from './roles.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('permission model', () => {
  it('matches exact grants and wildcards on either side of the colon', () => {
    expect(grantCovers('payments:create', 'payments', 'create')).toBe(true);
    expect(grantCovers('payments:*', 'payments', 'refund')).toBe(true);
    expect(grantCovers('*:read', 'claims', 'read')).toBe(true);
    expect(grantCovers('*:read', 'claims', 'submit')).toBe(false);
    expect(grantCovers('payments:create', 'payments', 'read')).toBe(false);
    expect(grantCovers('*:*', 'anything', 'at-all')).toBe(true);
  });

  it('keeps payment data away from pharmacists and user administration away from the service role', () => {
    const grants = (role: string) => SEEDED_ROLES.find((r) => r.name === role)!.permissions;
    expect(grantsCover(grants('pharmacist'), 'payments', 'read')).toBe(false);
    expect(grantsCover(grants('pharmacist'), 'claims', 'submit')).toBe(true);
    expect(grantsCover(grants('service'), 'roles', 'write')).toBe(false);
    expect(grantsCover(grants('service'), 'refunds', 'create')).toBe(true);
    expect(grantsCover(grants('support'), 'notifications', 'send')).toBe(true);
    expect(grantsCover(grants('support'), 'refunds', 'create')).toBe(false);
  });

  it('validates permission syntax', () => {
    expect(isPermission('payments:create')).toBe(true);
    expect(isPermission('*:read')).toBe(true);
    expect(isPermission('payments')).toBe(false);
    expect(isPermission('a:b:c')).toBe(false);
    expect(isPermission('Payments:Create')).toBe(false);
  });
});

describe('password hashing', () => {
  it('salts each hash and verifies only the right password', async () => {
    const a = await hashPassword('correct horse', cheap);
    const b = await hashPassword('correct horse', cheap);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('wrong horse', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'garbage')).toBe(false);
  });
});
