import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { dropTestSchemas, storeFactories } from '../../../test/support/stores.js';
import { readAudit } from '../../kernel/store/audit.js';
import { RETRY_AFTER_METADATA } from '../../protocols/proto/index.js';
import { UserDirectory } from './directory.js';
import { HashingBusy, PasswordHasher } from './password-hasher.js';
import { UsersRepository } from './repository.js';
import { seed } from './seed.js';
import { TokenIssuer } from './tokens.js';

afterAll(() => dropTestSchemas());

describe.each(storeFactories)('user directory on $name', (factory) => {
  it('signs in, decides with wildcards, changes roles with a new revision and locks after failures', async () => {
    const store = await factory.open();
    try {
      let now = new Date('2026-11-27T00:00:00Z');
      const repo = new UsersRepository(store);
      const tokens = await TokenIssuer.create({ issuer: 'i', audience: 'a', ttlSeconds: 60, now: () => now });
      const hasher = new PasswordHasher({ cost: { N: 1024, r: 8, p: 1 } });
      const dir = new UserDirectory(repo, tokens, { threshold: 2, lockSeconds: 60 }, () => now, hasher);
      await seed(repo, dir, 'dev-password-1');
      await seed(repo, dir, 'dev-password-1'); // idempotent on restart

      const signedIn = await dir.authenticate('support', 'dev-password-1');
      expect(signedIn).toMatchObject({ userId: 'usr_dev_support', roles: ['support'], expiresIn: 60 });

      expect((await dir.check('usr_dev_support', 'claims', 'read')).allowed).toBe(true);
      expect((await dir.check('usr_dev_support', 'refunds', 'create')).allowed).toBe(false);
      expect((await dir.check('usr_nobody', 'claims', 'read')).allowed).toBe(false);
      await expect(dir.check('usr_dev_support', '*', 'read')).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
      });

      const before = await dir.checkedAt();
      const granted = await dir.changeRole('usr_dev_support', 'billing', true, 'svc_admin_console');
      expect(granted.roles).toEqual(['billing', 'support']);
      expect(granted.token).not.toBe(before);
      expect((await dir.check('usr_dev_support', 'refunds', 'create')).allowed).toBe(true);
      await dir.changeRole('usr_dev_support', 'billing', false, 'svc_admin_console');
      const trail = await readAudit(store, { actor: 'svc_admin_console' });
      expect(trail.map((a) => [a.action, a.resource, a.details.role])).toEqual([
        ['roles.revoke', 'user:usr_dev_support', 'billing'],
        ['roles.assign', 'user:usr_dev_support', 'billing'],
      ]);
      expect((await dir.check('usr_dev_support', 'refunds', 'create')).allowed).toBe(false);

      await dir.disable('usr_dev_billing');
      expect((await dir.check('usr_dev_billing', 'payments', 'read')).allowed).toBe(false);
      await expect(dir.authenticate('billing', 'dev-password-1')).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });

      await expect(dir.authenticate('admin', 'nope-nope')).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
      await expect(dir.authenticate('admin', 'nope-nope')).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
      await expect(dir.authenticate('admin', 'dev-password-1')).rejects.toMatchObject({
        code: status.RESOURCE_EXHAUSTED,
      });
      now = new Date(now.getTime() + 61_000);
      expect((await dir.authenticate('admin', 'dev-password-1')).userId).toBe('usr_dev_admin');
    } finally {
      await store.close();
    }
  });

  it('answers RESOURCE_EXHAUSTED, without counting a failed attempt, when no hashing slot is free', async () => {
    class NoRoom extends PasswordHasher {
      override verify(): Promise<boolean> {
        return Promise.reject(new HashingBusy());
      }
    }
    const store = await factory.open();
    try {
      const repo = new UsersRepository(store);
      const tokens = await TokenIssuer.create({ issuer: 'i', audience: 'a', ttlSeconds: 60 });
      const hasher = new NoRoom({ cost: { N: 1024, r: 8, p: 1 } });
      const dir = new UserDirectory(
        repo,
        tokens,
        { threshold: 1, lockSeconds: 60 },
        () => new Date(),
        hasher,
      );
      for (let i = 0; i < 3; i++)
        await expect(dir.authenticate('ghost', 'x')).rejects.toMatchObject({
          code: status.RESOURCE_EXHAUSTED,
          trailers: { [RETRY_AFTER_METADATA]: '1' },
        });
      expect(await repo.failures('ghost')).toEqual({ failures: 0, lockedUntil: null });
    } finally {
      await store.close();
    }
  });
});
