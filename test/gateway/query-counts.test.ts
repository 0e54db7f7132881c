import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/cli/migrations.js';
import { JwksCache, TokenAuthenticator } from '../../src/gateway/auth/index.js';
import { notificationRoutes, paymentRoutes, usersRoutes } from '../../src/gateway/index.js';
import { NotificationIntegration } from '../../src/integrations/notifications/index.js';
import { PaymentIntegration } from '../../src/integrations/payments/index.js';
import { migrate } from '../../src/kernel/store/migrate.js';
import { PgliteStore } from '../../src/kernel/store/pglite-store.js';
import { createLogger, Metrics } from '../../src/kernel/telemetry/index.js';
import { createPaymentsSandbox, type PaymentsSandbox } from '../../src/sandbox/payments/index.js';
import { buildTestGateway, type TestGateway } from '../support/app.js';
import { type CountingStore, countingStore } from '../support/counting-store.js';
import { AUDIENCE, DEV_PASSWORD, ISSUER, startUsersHarness, type UsersHarness } from '../users/harness.js';

/**
 * Round trips to the database per request on the hot routes, in steady state (token verified, permission
 * decided and statements prepared by an earlier request). A change that adds one fails here: lower the number
 * when a change removes one, raise it only with a reason in the commit. BEGIN and COMMIT count.
 */
const EXPECTED = {
  'GET /v1/payments/{id}': 1,
  // Idempotency claim, ledger row (the charge is sent from the row just written, not a re-read), then one
  // transaction for the answer (BEGIN, lock, update, metric outbox row, COMMIT) and the stored answer.
  'POST /v1/payments': 8,
  // Idempotency claim, one transaction (BEGIN, notification row, outbox row, COMMIT), the row read back for the
  // answer, the stored answer.
  'POST /v1/notifications/email': 7,
  // Decided by the user service (cached per subject and permission); the gateway's store is not touched.
  'POST /v1/permissions/check': 0,
};

let users: UsersHarness;
let sandbox: PaymentsSandbox;
let payments: PaymentIntegration;
let store: CountingStore;
let gw: TestGateway;
let bearer: Record<string, string>;

beforeAll(async () => {
  users = await startUsersHarness();
  const client = users.client();
  sandbox = await createPaymentsSandbox({ apiKeys: [{ apiKey: 'pk_q', secrets: ['sk_q'] }] });
  await sandbox.listen();
  const base = await PgliteStore.open('memory://');
  await migrate(base, MIGRATIONS);
  store = countingStore(base);
  const logger = createLogger({ level: 'silent' });
  payments = new PaymentIntegration({
    baseUrl: sandbox.url,
    apiKey: 'pk_q',
    apiSecrets: ['sk_q'],
    webhookSecrets: ['whsec_q'],
    store,
    metrics: new Metrics({ defaultMetrics: false }),
    logger,
  });
  gw = await buildTestGateway({
    store,
    routes: [
      paymentRoutes(payments),
      notificationRoutes(new NotificationIntegration({ store, wakeRelay: () => {} })),
      usersRoutes(client),
    ],
    authenticator: new TokenAuthenticator({
      jwks: new JwksCache({ fetch: () => client.getJwks() }),
      decider: client,
      issuer: ISSUER,
      audience: AUDIENCE,
    }),
    env: { CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '1000000' },
  });
  const token = (await client.authenticateUser('admin', DEV_PASSWORD)).accessToken;
  bearer = { authorization: `Bearer ${token}` };
});

afterAll(async () => {
  await gw?.close();
  await payments?.close();
  await sandbox?.close();
  await users?.stop();
  await store?.close();
});

async function call(method: 'GET' | 'POST', url: string, body?: unknown) {
  const res = await gw.app.inject({
    method,
    url,
    headers: { ...bearer, ...(body ? { 'idempotency-key': randomUUID() } : {}) },
    ...(body ? { payload: body as object } : {}),
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
}

/** The statements one request runs once everything is warm (its second run). */
async function statementsOf(request: () => Promise<unknown>): Promise<string[]> {
  await request();
  store.reset();
  await request();
  return [...store.statements];
}

describe('database round trips per request on the hot routes', () => {
  it('reads a payment by id in one statement', async () => {
    const p = await call('POST', '/v1/payments', {
      amount: 1250,
      currency: 'USD',
      customerId: 'cus_q',
      paymentMethod: 'pm_card_visa',
    });
    const ran = await statementsOf(() => call('GET', `/v1/payments/${p.id}`));
    expect(ran, ran.join(', ')).toHaveLength(EXPECTED['GET /v1/payments/{id}']);
  });

  it('takes a payment in the expected number of statements', async () => {
    const ran = await statementsOf(() =>
      call('POST', '/v1/payments', {
        amount: 990,
        currency: 'USD',
        customerId: 'cus_q',
        paymentMethod: 'pm_card_visa',
      }),
    );
    expect(ran, ran.join(', ')).toHaveLength(EXPECTED['POST /v1/payments']);
  });

  it('accepts an email in the expected number of statements', async () => {
    const ran = await statementsOf(() =>
      call('POST', '/v1/notifications/email', {
        to: 'patient@example.test',
        subject: 'Your order',
        text: 'It ships today.',
      }),
    );
    expect(ran, ran.join(', ')).toHaveLength(EXPECTED['POST /v1/notifications/email']);
  });

  it('checks permissions without touching the store', async () => {
    const ran = await statementsOf(() =>
      call('POST', '/v1/permissions/check', { permissions: ['payments:read', 'refunds:create'] }),
    );
    expect(ran, ran.join(', ')).toHaveLength(EXPECTED['POST /v1/permissions/check']);
  });
});
