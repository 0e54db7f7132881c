import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestPki, type TestPki } from '../../../test/users/certs.js';
import { DEV_PASSWORD, startUsersHarness, type UsersHarness } from '../../../test/users/harness.js';
import { MIGRATIONS } from '../../cli/migrations.js';
import { migrate } from '../../kernel/store/migrate.js';
import { PgliteStore } from '../../kernel/store/pglite-store.js';
import type { Store } from '../../kernel/store/store.js';

// Certificates are made with the openssl CLI at test time (test/users/certs.ts).
const pki: TestPki = makeTestPki();
// One store for both servers (they run one after the other); opening PGlite is the slow part.
let store: Store;
beforeAll(async () => {
  store = await PgliteStore.open('memory://');
  await migrate(store, MIGRATIONS);
});
afterAll(() => store.close());

describe('UserServiceIntegration over TLS', () => {
  let h: UsersHarness;
  beforeAll(async () => {
    h = await startUsersHarness({ store, tls: { cert: pki.server.cert, key: pki.server.key } });
  });
  afterAll(() => h.stop());

  it('authenticates and checks permissions when the client trusts the server CA', async () => {
    const c = h.client({ tls: { ca: pki.ca, serverName: 'localhost' } });
    expect((await c.authenticateUser('admin', DEV_PASSWORD)).roles).toEqual(['admin']);
    expect(
      await c.checkPermission({ subject: 'usr_dev_billing', resource: 'refunds', action: 'create' }),
    ).toBe(true);
  });

  it('refuses a server whose certificate it cannot verify', async () => {
    const c = h.client({
      tls: { ca: pki.rogue.ca, serverName: 'localhost' },
      maxAttempts: 1,
      deadlineMs: 1_000,
    });
    await expect(c.getUserRoles('usr_dev_admin')).rejects.toMatchObject({
      code: expect.stringMatching(/USERS_SERVICE_(UNAVAILABLE|TIMEOUT)/),
    });
  });

  it('fails a plain-text client against the TLS server', async () => {
    const c = h.client({ tls: false, maxAttempts: 1, deadlineMs: 1_000 });
    await expect(c.getUserRoles('usr_dev_admin')).rejects.toMatchObject({ retryable: true });
  });
});

describe('UserServiceIntegration over mutual TLS', () => {
  let h: UsersHarness;
  beforeAll(async () => {
    h = await startUsersHarness({
      store,
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requireClientCert: true },
    });
  });
  afterAll(() => h.stop());

  it('connects with a client certificate signed by the trusted CA', async () => {
    const c = h.client({
      tls: { ca: pki.ca, cert: pki.client.cert, key: pki.client.key, serverName: 'localhost' },
    });
    expect((await c.getUserRoles('usr_dev_support')).map((r) => r.name)).toEqual(['support']);
  });

  it('is refused without a client certificate, or with one from an untrusted CA', async () => {
    const none = h.client({
      tls: { ca: pki.ca, serverName: 'localhost' },
      maxAttempts: 1,
      deadlineMs: 1_000,
    });
    await expect(none.getUserRoles('usr_dev_support')).rejects.toMatchObject({ retryable: true });
    const rogue = h.client({
      tls: { ca: pki.ca, cert: pki.rogue.cert, key: pki.rogue.key, serverName: 'localhost' },
      maxAttempts: 1,
      deadlineMs: 1_000,
    });
    await expect(rogue.getUserRoles('usr_dev_support')).rejects.toMatchObject({ retryable: true });
  });
});
