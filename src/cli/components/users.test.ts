import { describe, expect, it } from 'vitest';
import { type TestRuntimeOptions, testRuntimeContext } from '../../../test/support/runtime-context.js';
import { loadConfig } from '../config.js';
import { usersComponent } from './users.js';

const ctx = (config: TestRuntimeOptions['config']) => testRuntimeContext({ config });

describe('users component configuration', () => {
  it('refuses a remote target without a service-account key', async () => {
    await expect(usersComponent.start(ctx({ usersTarget: 'users.internal:443' }))).rejects.toThrow(
      /USERS_SERVICE_ACCOUNT_KEY/,
    );
  });

  it('refuses plain-text gRPC in production unless insecure transport is allowed', async () => {
    const key = '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----';
    await expect(
      usersComponent.start(
        ctx({
          profile: 'production',
          usersTarget: 'users.internal:443',
          usersTls: false,
          usersServiceAccountKey: key,
        }),
      ),
    ).rejects.toThrow(/USERS_TLS: production refuses plain-text gRPC/);
  });

  it('accepts the target forms the setting documents and refuses others', () => {
    const load = (USERS_TARGET: string) => () =>
      loadConfig({ env: { CAREBRIDGE_PROFILE: 'test', USERS_TARGET }, cwd: '/nonexistent' });
    for (const ok of [
      'sandbox',
      'users.internal:50051',
      'dns:///users.internal:443',
      'ipv4:10.0.0.1:50051,10.0.0.2:50051',
    ]) {
      expect(load(ok)().usersTarget).toBe(ok);
    }
    for (const bad of ['http://users:80', 'users', 'dns:///users']) expect(load(bad)).toThrow(/USERS_TARGET/);
  });
});
