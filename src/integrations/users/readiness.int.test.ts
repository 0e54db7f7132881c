import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsersHarness, type UsersHarness } from '../../../test/users/harness.js';
import { createLogger } from '../../kernel/telemetry/index.js';
import { GATEWAY_SCOPES, SCOPES } from '../../protocols/proto/index.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  return { lines, logger, warnings: () => lines.filter((l) => l.level === 'warn') };
}

describe('user service readiness: why it is down, in words, warned once', () => {
  let h: UsersHarness;
  beforeAll(async () => {
    h = await startUsersHarness();
  });
  afterAll(() => h.stop());

  it('says nothing listens at a wrong USERS_TARGET', async () => {
    const log = capture();
    const c = h.client({ target: '127.0.0.1:1', maxAttempts: 1, logger: log.logger });
    const reason = 'connection refused by 127.0.0.1:1 (nothing listens there) (check USERS_TARGET)';
    for (let i = 0; i < 3; i++)
      expect(await c.checkHealth()).toEqual({
        status: 'down',
        detail: `${reason}; permission checks fail closed`,
      });
    await expect(c.getJwks()).rejects.toMatchObject({ code: 'USERS_SERVICE_UNAVAILABLE' });
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0]).toMatchObject({ msg: `the user service unavailable: ${reason}`, reason });
  });

  it('says a host name does not resolve', async () => {
    const c = h.client({ target: 'dns:///cb-no-such-host.invalid:50051', maxAttempts: 1 });
    expect((await c.checkHealth()).detail).toMatch(
      /^host not found: cb-no-such-host\.invalid:50051 \(DNS lookup failed\) \(check USERS_TARGET\)/,
    );
  });

  it('shows a refused service account as down until the account works, with one warning', async () => {
    const log = capture();
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const c = h.client({ account: 'svc_unregistered', key: privateKey, logger: log.logger });
    // The health RPC itself needs no credentials: up until a call shows the account is refused.
    expect((await c.checkHealth()).status).toBe('up');
    await expect(c.getJwks()).rejects.toMatchObject({ code: 'USERS_SERVICE_ACCOUNT_REJECTED' });
    const reason =
      "the user service refused the service account 'svc_unregistered': unknown service account (check USERS_SERVICE_ACCOUNT_ID / USERS_SERVICE_ACCOUNT_KEY and the key registered for it)";
    for (let i = 0; i < 2; i++)
      expect(await c.checkHealth()).toEqual({
        status: 'down',
        detail: `${reason}; permission checks fail closed`,
      });
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0]).toMatchObject({ reason });

    // Registering the key fixes it; readiness notices without any other traffic.
    await h.sandbox.registerServiceAccount(
      'svc_unregistered',
      { ...(await exportJWK(publicKey)), alg: 'ES256' },
      GATEWAY_SCOPES,
    );
    expect(await c.checkHealth()).toEqual({ status: 'up', detail: 'SERVING' });
  });

  it('shows a missing scope as degraded, naming the scope', async () => {
    const key = await h.addAccount('svc_no_authenticate', [SCOPES.permissionsCheck]);
    const c = h.client({ account: 'svc_no_authenticate', key });
    await expect(c.getJwks()).rejects.toMatchObject({ code: 'USERS_SERVICE_ACCOUNT_REJECTED' });
    const health = await c.checkHealth();
    expect(health.status).toBe('degraded');
    expect(health.detail).toMatch(
      /^recent call refused: the user service refused the service account 'svc_no_authenticate': service account lacks scope users\.authenticate \(it needs the scopes /,
    );
  });
});
