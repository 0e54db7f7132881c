import { randomUUID } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PaymentsHandle, paymentsComponent } from '../../src/cli/components/payments.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime, type Runtime } from '../../src/cli/runtime.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { allowAll } from '../support/app.js';

let runtime: Runtime;
let handle: PaymentsHandle;

beforeAll(async () => {
  const config = loadConfig({
    env: { CAREBRIDGE_PROFILE: 'test', PORT: '0', CAREBRIDGE_DATA_DIR: 'memory://' },
    cwd: '/nonexistent',
  });
  runtime = await createRuntime({
    config,
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
  await runtime.listen();
});
afterAll(() => runtime.stop());

describe('payments component (PAYMENTS_BASE_URL=sandbox)', () => {
  it('starts the sandbox, shows it in readiness, and serves a payment whose webhooks reach this gateway', async () => {
    const ready = (await (await fetch(`${runtime.url}/health/ready`)).json()) as any;
    expect(ready.checks.payments).toMatchObject({ status: 'up', target: handle.sandbox!.url });
    const res = await fetch(`${runtime.url}/v1/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        amount: 990,
        currency: 'EUR',
        customerId: 'cus_comp',
        paymentMethod: 'pm_card_visa',
      }),
    });
    expect(res.status).toBe(201);
    const p = (await res.json()) as any;
    await handle.sandbox!.webhooks.idle();
    await handle.webhooks.idle();
    const { rows } = await runtime.store.query<{ event_type: string; processed_at: Date | null }>(
      "SELECT event_type, processed_at FROM webhook_events WHERE provider = 'payments'",
    );
    expect(rows.map((r) => r.event_type)).toContain('charge.succeeded');
    expect(rows.every((r) => r.processed_at !== null)).toBe(true);
    expect(p.status).toBe('succeeded');
    const doc = (await (await fetch(`${runtime.url}/openapi.json`)).json()) as any;
    expect((await new Validator().validate(doc)).valid).toBe(true);
    expect(doc.paths['/v1/payments'].post.responses['402'].description).toContain('PAYMENTS_CARD_DECLINED');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/payments',
        '/v1/payments/{id}',
        '/v1/payments/{id}/refunds',
        '/v1/subscriptions',
        '/v1/subscriptions/{id}',
        '/webhooks/payments',
      ]),
    );
  });

  it('probes the processor for readiness on its health endpoint, never a business one', async () => {
    const faults = (body: unknown) =>
      fetch(`${handle.sandbox!.url}/_sandbox/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    try {
      // Listing charges refused: readiness does not notice, it never lists charges.
      // `probability: 1` (a rule without count fires once): the background readiness refresh pings every second
      // and must not use the fault up before this test's own call.
      await faults({
        faults: [{ method: 'GET', path: '/api/v1/charges*', action: 'error', status: 401, probability: 1 }],
      });
      await expect(handle.integration.ping()).resolves.toBeUndefined();
      await faults({
        replace: true,
        faults: [{ method: 'GET', path: '/api/v1/health', action: 'error', status: 401, probability: 1 }],
      });
      await expect(handle.integration.ping()).rejects.toMatchObject({
        code: 'PAYMENTS_AUTHENTICATION_FAILED',
      });
    } finally {
      await fetch(`${handle.sandbox!.url}/_sandbox/faults`, { method: 'DELETE' });
    }
  });
});
