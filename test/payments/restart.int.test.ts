import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { type PaymentsHandle, paymentsComponent } from '../../src/cli/components/payments.js';
import { type Config, loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { resetSandboxes } from '../../src/cli/sandbox-reset.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { allowAll } from '../support/app.js';

/** `npm start` twice on one data directory: the ledger (PGlite) and the payments sandbox both remember. */
let dataDir: string;
let config: Config;
let running: Runtime | undefined;

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'cb-restart-'));
  config = configFor(dataDir);
});
afterEach(async () => {
  await running?.stop();
  running = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

function configFor(dir: string): Config {
  return loadConfig({
    env: { CAREBRIDGE_PROFILE: 'test', PORT: '0', CAREBRIDGE_DATA_DIR: dir },
    cwd: '/nonexistent',
  });
}

async function start(cfg = config): Promise<{ url: string; handle: PaymentsHandle }> {
  let handle: PaymentsHandle | undefined;
  running = await createRuntime({
    config: cfg,
    logger: createLogger({ level: 'silent' }),
    components: [
      { name: 'test-auth', start: async () => ({ authenticator: allowAll, stop: async () => {} }) },
      {
        name: 'payments',
        start: async (ctx) => {
          handle = (await paymentsComponent.start(ctx)) as PaymentsHandle;
          return handle;
        },
      },
    ],
  });
  return { url: await running.listen(), handle: handle! };
}

async function stop(): Promise<void> {
  await running?.stop();
  running = undefined;
}

async function post(
  url: string,
  body: unknown,
): Promise<{ status: number; body: { id: string; status?: string; amount?: number } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { id: string } };
}

const payment = { amount: 1250, currency: 'USD', customerId: 'cus_restart', paymentMethod: 'pm_card_visa' };

describe('payments across a restart of the gateway (development sandboxes keep their state)', () => {
  it('refunds and refreshes what was paid before the restart', async () => {
    const first = await start();
    const paid = await post(`${first.url}/v1/payments`, payment);
    expect(paid.status).toBe(201);
    const sub = await post(`${first.url}/v1/subscriptions`, {
      customerId: 'cus_restart',
      priceId: 'price_basic_monthly',
      paymentMethod: 'pm_card_visa',
    });
    expect(sub.status).toBe(201);
    await stop();

    const second = await start();
    const refund = await post(`${second.url}/v1/payments/${paid.body.id}/refunds`, { amount: 500 });
    expect(refund.status).toBe(201);
    expect(refund.body).toMatchObject({ status: 'succeeded', amount: 500 });
    const refreshed = await fetch(`${second.url}/v1/subscriptions/${sub.body.id}?refresh=true`);
    expect(refreshed.status).toBe(200);
    expect(((await refreshed.json()) as { status: string }).status).toBe('active');
  });

  it('POST /_sandbox/reset on the running sandbox clears its records and the payments ledger together', async () => {
    const { url, handle } = await start();
    const paid = await post(`${url}/v1/payments`, payment);
    const reset = await fetch(`${handle.sandbox!.url}/_sandbox/reset`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(reset.status).toBe(200);
    expect((await fetch(`${url}/v1/payments/${paid.body.id}`)).status).toBe(404);
    const { rows } = await running!.store.query<{ n: number }>('SELECT count(*)::int AS n FROM payments');
    expect(rows[0]!.n).toBe(0);
    expect(handle.sandbox!.state.charges.size).toBe(0);
  });

  it('carebridge sandbox reset (gateway stopped) clears the saved sandbox records and the ledger', async () => {
    const first = await start();
    const paid = await post(`${first.url}/v1/payments`, payment);
    expect(paid.status).toBe(201);
    await expect(resetSandboxes(config)).rejects.toThrow(/stop it first|in use/);
    await stop();

    const report = await resetSandboxes(config);
    expect(report.files).toContain('payments.json');
    expect(report.ledgers).toContain('payments');

    const { url, handle } = await start();
    expect((await fetch(`${url}/v1/payments/${paid.body.id}`)).status).toBe(404);
    expect(handle.sandbox!.state.charges.size).toBe(0);
    expect((await post(`${url}/v1/payments`, payment)).status).toBe(201);
  });

  it('refuses to reset in the production profile', async () => {
    const prod = { ...config, profile: 'production' } as Config;
    await expect(resetSandboxes(prod)).rejects.toThrow(/production/);
  });

  it('with CAREBRIDGE_DATA_DIR=memory:// the sandbox writes nothing', async () => {
    const { handle } = await start(configFor('memory://'));
    expect(handle.sandbox!.stateFile).toBeUndefined();
    await stop();
    expect(existsSync(path.join(dataDir, 'sandbox'))).toBe(false);
  });
});
