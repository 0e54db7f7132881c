import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import type { LoadOptions } from '../../src/kernel/config/index.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';

/**
 * Feature flags in a running gateway follow the profile file (and SIGHUP, i.e. `reloadFlags()`): a kill switch
 * turned off makes its routes answer 503 at once, and turned on again restores them, with no restart.
 */
describe('feature flags of a running gateway', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-flags-'));
  const file = path.join(dir, 'test.json');
  const writeFlags = (flags: string) =>
    writeFileSync(file, JSON.stringify({ CAREBRIDGE_FEATURE_FLAGS: flags }));
  const source: LoadOptions = {
    env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://' },
    file,
    cwd: '/nonexistent',
  };
  let rt: Runtime;
  let token: string;
  let n = 0;

  beforeAll(async () => {
    writeFlags('');
    const config = loadConfig(source);
    rt = await createRuntime({
      config,
      logger: createLogger({ level: 'silent' }),
      components: COMPONENTS,
      configSource: source,
    });
    const res = await rt.app.inject({
      method: 'POST',
      url: '/v1/auth/token',
      payload: { username: 'admin', password: config.devAdminPassword },
    });
    token = res.json().access_token;
  });
  afterAll(async () => {
    await rt?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const pay = () =>
    rt.app.inject({
      method: 'POST',
      url: '/v1/payments',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': `flags-test-${process.pid}-${++n}` },
      payload: { amount: 1250, currency: 'USD', customerId: 'cus_demo_1', paymentMethod: 'pm_card_visa' },
    });
  const send = (channel: 'email' | 'sms') =>
    rt.app.inject({
      method: 'POST',
      url: `/v1/notifications/${channel}`,
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': `flags-test-${process.pid}-${++n}` },
      payload:
        channel === 'sms'
          ? { to: '+15005550006', text: 'Your order shipped' }
          : { to: 'demo@example.com', subject: 'Hello', text: 'Hello there' },
    });

  it('turns payments off when the profile file changes, and on again, without a restart', async () => {
    expect((await pay()).statusCode).toBe(201);
    writeFlags('-payments.enabled');
    // No reloadFlags(): the runtime notices the file (polled every second).
    await expect.poll(async () => (await pay()).statusCode, { timeout: 10_000, interval: 200 }).toBe(503);
    const off = await pay();
    expect(off.json()).toMatchObject({ code: 'FEATURE_DISABLED', flag: 'payments.enabled' });
    expect(
      (await rt.app.inject({ url: '/v1/payments', headers: { authorization: `Bearer ${token}` } }))
        .statusCode,
    ).toBe(503);
    writeFlags('');
    await expect.poll(async () => (await pay()).statusCode, { timeout: 10_000, interval: 200 }).toBe(201);
  });

  it('switches one notification channel on reloadFlags() (SIGHUP), and keeps its values on an invalid file', async () => {
    writeFlags('-notifications.sms.enabled');
    expect(rt.reloadFlags()).toBe(true);
    expect((await send('sms')).json()).toMatchObject({
      code: 'FEATURE_DISABLED',
      flag: 'notifications.sms.enabled',
    });
    expect((await send('email')).statusCode).toBe(202);

    writeFlags('-notifications.sms.enable'); // a typo: refused, the previous values stay
    expect(rt.reloadFlags()).toBe(false);
    expect((await send('sms')).statusCode).toBe(503);

    writeFlags('');
    expect(rt.reloadFlags()).toBe(true);
    expect((await send('sms')).statusCode).toBe(202);
    expect(rt.flags.snapshot()).toMatchObject({
      'notifications.sms.enabled': true,
      'payments.enabled': true,
    });
  });
});
