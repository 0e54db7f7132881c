import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPaymentsSandbox,
  type PaymentsSandbox,
  type PaymentsSandboxOptions,
} from '../../src/sandbox/payments/index.js';
import { control, sandboxClient } from './sandbox-client.js';

let dataDir: string;
let stateDir: string;
const open: PaymentsSandbox[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'cb-payments-state-'));
  stateDir = path.join(dataDir, 'sandbox');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(opts: PaymentsSandboxOptions = {}) {
  const sandbox = await createPaymentsSandbox({ stateDir, ...opts });
  open.push(sandbox);
  await sandbox.listen();
  return { sandbox, call: sandboxClient(sandbox.url) };
}

async function stop(sandbox: PaymentsSandbox) {
  open.splice(open.indexOf(sandbox), 1);
  await sandbox.close();
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const charge = (payment_method = 'pm_card_visa', amount = 1250) => ({
  amount,
  currency: 'usd',
  customer: 'cus_synthetic_state',
  payment_method,
});

describe('payments sandbox: records kept under the data directory', () => {
  it('a restart on the same folder keeps charges, refunds, idempotency keys and the clock', async () => {
    const first = await start();
    const key = randomUUID();
    const paid = await first.call('POST', '/api/v1/charges', charge(), { idempotencyKey: key });
    expect(paid.status).toBe(200);
    const partial = await first.call('POST', '/api/v1/refunds', { charge: paid.body.id, amount: 250 });
    expect(partial.status).toBe(200);
    await control(first.sandbox.url, '/_sandbox/clock', { advanceSeconds: 2 * HOUR });
    const before = await control(first.sandbox.url, '/_sandbox/state');
    await stop(first.sandbox);

    const second = await start();
    const got = await second.call('GET', `/api/v1/charges/${paid.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: paid.body.id, amount_refunded: 250, status: 'succeeded' });
    expect((await second.call('GET', `/api/v1/refunds/${partial.body.id}`)).body.amount).toBe(250);
    const rest = await second.call('POST', '/api/v1/refunds', { charge: paid.body.id });
    expect(rest.status).toBe(200);
    expect(rest.body.amount).toBe(1000);
    const replay = await second.call('POST', '/api/v1/charges', charge(), { idempotencyKey: key });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(paid.body.id);
    const after = await control(second.sandbox.url, '/_sandbox/state');
    expect(Date.parse(after.now) - Date.parse(before.now)).toBeGreaterThanOrEqual(0);
    expect(Date.parse(after.now) - Date.now()).toBeGreaterThan(2 * HOUR * 1000 - 60_000);
    expect((await second.call('GET', '/api/v1/prices/price_basic_monthly')).status).toBe(200);
  });

  it('re-arms clock jobs after a restart: a review finishes, a refund fails, dunning goes on', async () => {
    const first = await start();
    const review = await first.call('POST', '/api/v1/charges', charge('pm_card_riskLevelElevated'));
    expect(review.body.status).toBe('pending');
    const refundable = await first.call('POST', '/api/v1/charges', charge('pm_card_refundFail'));
    const refund = await first.call('POST', '/api/v1/refunds', { charge: refundable.body.id });
    expect(refund.body.status).toBe('pending');
    const sub = await first.call('POST', '/api/v1/subscriptions', {
      customer: 'cus_synthetic_state',
      price: 'price_test_daily',
      payment_method: 'pm_card_chargeCustomerFail',
      trial_period_days: 1,
    });
    expect(sub.body.status).toBe('trialing');
    await control(first.sandbox.url, '/_sandbox/clock', { advanceSeconds: DAY });
    expect((await first.call('GET', `/api/v1/subscriptions/${sub.body.id}`)).body.status).toBe('past_due');
    const jobsBefore = (await control(first.sandbox.url, '/_sandbox/state')).pendingJobs;
    await stop(first.sandbox);

    const second = await start();
    expect((await control(second.sandbox.url, '/_sandbox/state')).pendingJobs).toBe(jobsBefore);
    await control(second.sandbox.url, '/_sandbox/clock', { advanceSeconds: 10 * DAY });
    expect((await second.call('GET', `/api/v1/charges/${review.body.id}`)).body.status).toBe('succeeded');
    expect((await second.call('GET', `/api/v1/refunds/${refund.body.id}`)).body.status).toBe('failed');
    expect((await second.call('GET', `/api/v1/subscriptions/${sub.body.id}`)).body.status).toBe('unpaid');
  });

  it('POST /_sandbox/reset forgets the saved records too, and runs onReset', async () => {
    let resets = 0;
    const first = await start({ onReset: () => void resets++ });
    const paid = await first.call('POST', '/api/v1/charges', charge());
    await control(first.sandbox.url, '/_sandbox/reset', {});
    expect(resets).toBe(1);
    await stop(first.sandbox);
    const second = await start();
    expect((await second.call('GET', `/api/v1/charges/${paid.body.id}`)).status).toBe(404);
    expect((await second.call('GET', '/api/v1/prices/price_basic_monthly')).status).toBe(200);
  });

  it('keeps the newest maxObjects of each kind; older ones answer 404', async () => {
    const first = await start({ maxObjects: 3 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await first.call('POST', '/api/v1/charges', charge('pm_card_visa', 1000 + i))).body.id);
    expect((await first.call('GET', `/api/v1/charges/${ids[0]}`)).status).toBe(404);
    await stop(first.sandbox);
    const second = await start({ maxObjects: 3 });
    const listed = await second.call('GET', '/api/v1/charges?limit=100');
    expect(listed.body.data.map((c: { id: string }) => c.id)).toEqual(ids.slice(2).reverse());
    expect((await control(second.sandbox.url, '/_sandbox/state')).counts.events).toBeLessThanOrEqual(3);
  });

  it('without a folder nothing is written', async () => {
    const { sandbox, call } = await start({ stateDir: undefined });
    await call('POST', '/api/v1/charges', charge());
    await stop(sandbox);
    expect(sandbox.stateFile).toBeUndefined();
    expect(existsSync(stateDir)).toBe(false);
    expect(readdirSync(dataDir)).toEqual([]);
  });
});
