/**
 * The baseline of `npm run bench -- gateway`: the same I/O as the gateway's hot routes, without the gateway.
 * A bare Fastify app (no hooks, no schemas, no logging, no auth) whose routes run the SAME SQL statements,
 * in the same order and transactions, through the same store classes and pool size (PgStore with
 * CAREBRIDGE_DATABASE_POOL_SIZE' default 10, or PgliteStore), and for writes the same signed call to a payments
 * sandbox. The statements are the ones test/gateway/query-counts.test.ts counts; keep them in step.
 *
 * What it does NOT do, on purpose (that is the gateway's cost being measured): token verification, the
 * permission decision, rate limiting, schema validation, problem+json, metrics, request logs, the resilience
 * pipeline around the call, the outbox relay and RabbitMQ publishing, webhook receipt.
 *
 * Started by bench/gateway.ts as its own process:
 *   BASELINE_PORT, BASELINE_DATABASE_URL (Postgres) or BASELINE_DATA_DIR (PGlite),
 *   BASELINE_SANDBOX_URL (a payments sandbox process) or nothing (one in this process, as `npm start` has),
 *   BASELINE_API_KEY / BASELINE_API_SECRET (the sandbox's credentials), BASELINE_WEBHOOK_SECRET.
 *
 * Webhooks: the processor sends one per charge and refund, and the gateway receives and applies each (INSERT the
 * event, then in the background read it back, lock the payment in a transaction, mark it processed). The baseline
 * receives its own sandbox's webhooks on `/webhooks/payments` and does the same statements, so both sides absorb
 * the same processor traffic.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { MIGRATIONS } from '../src/cli/migrations.js';
import { newId, newUlid } from '../src/kernel/ids/index.js';
import { migrate, openStore, type Queryable } from '../src/kernel/store/index.js';
import { signV1, verifyWebhookSignature } from '../src/protocols/signing/index.js';
import { createPaymentsSandbox } from '../src/sandbox/payments/index.js';

const env = process.env;
const apiKey = env.BASELINE_API_KEY ?? 'pk_test_carebridge';
const secrets = [env.BASELINE_API_SECRET ?? 'sk_test_carebridge'];
const store = await openStore({
  databaseUrl: env.BASELINE_DATABASE_URL,
  dataDir: env.BASELINE_DATA_DIR ?? 'memory://',
  poolSize: 10,
});
await migrate(store, MIGRATIONS);

const webhookSecrets = [env.BASELINE_WEBHOOK_SECRET ?? 'whsec_carebridge_dev_1'];
let ownUrl: string | undefined;
let sandboxUrl = env.BASELINE_SANDBOX_URL;
const sandbox = sandboxUrl
  ? undefined
  : await createPaymentsSandbox({
      apiKeys: [{ apiKey, secrets }],
      webhookEndpoints: [{ url: () => ownUrl && `${ownUrl}/webhooks/payments`, secrets: webhookSecrets }],
    });
if (sandbox) sandboxUrl = await sandbox.listen();
const processor = new Pool(sandboxUrl!, { connections: 32 });

/** The same signed v1 call the gateway makes (fresh timestamp and nonce, idempotency key, JSON body). */
async function signedPost(
  path: string,
  json: unknown,
  idempotencyKey: string,
): Promise<{ id: string; status: string; amount: number }> {
  const body = Buffer.from(JSON.stringify(json));
  const headers = signV1(
    {
      method: 'POST',
      url: new URL(path, sandboxUrl),
      headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body,
      idempotencyKey,
    },
    { apiKey, secrets },
  );
  const res = await processor.request({
    method: 'POST',
    path,
    body,
    headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
  });
  const answer = (await res.body.json()) as { id: string; status: string; amount: number };
  if (res.statusCode >= 300) throw new Error(`${path} answered ${res.statusCode}: ${JSON.stringify(answer)}`);
  return answer;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TTL_MS = 86_400_000;

async function claim(scope: string, key: string, hash: string): Promise<void> {
  const now = new Date();
  await store.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, state, locked_until, created_at, expires_at)
     VALUES ($1, $2, $3, 'in_progress', $4, $6, $5)
     ON CONFLICT (scope, key) DO UPDATE
        SET request_hash = EXCLUDED.request_hash, state = 'in_progress', response = NULL,
            locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
      WHERE idempotency_keys.expires_at <= $6
         OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.locked_until <= $6
             AND idempotency_keys.request_hash = EXCLUDED.request_hash)
     RETURNING key`,
    [scope, key, hash, new Date(now.getTime() + 120_000), new Date(now.getTime() + TTL_MS), now],
  );
}

async function complete(scope: string, key: string, response: unknown): Promise<void> {
  await store.query(
    `UPDATE idempotency_keys SET state = 'completed', response = $3::jsonb, locked_until = NULL
      WHERE scope = $1 AND key = $2`,
    [scope, key, JSON.stringify(response)],
  );
}

async function metric(tx: Queryable, key: string, name: string, value: number, currency: string, at: Date) {
  await tx.query(
    'INSERT INTO outbox (id, destination, key, payload, headers) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)',
    [
      newUlid(),
      'kafka:business_metrics',
      key,
      JSON.stringify({ name, value, unit: 'minor_units', currency, occurredAt: at.toISOString() }),
      JSON.stringify({ 'x-message-type': 'business_metric.v1' }),
    ],
  );
}

const app = Fastify({ logger: false });

app.get('/health/ready', async () => ({ status: 'up', checks: { store: { status: 'up', required: true } } }));

app.get('/v1/payments/:id', async (req, reply) => {
  const { rows } = await store.query('SELECT * FROM payments WHERE id = $1', [
    (req.params as { id: string }).id,
  ]);
  return rows[0] ?? reply.code(404).send({ code: 'PAYMENTS_NOT_FOUND' });
});

app.get('/v1/payments', async () => {
  const { rows } = await store.query('SELECT * FROM payments  ORDER BY id DESC LIMIT $1', [21]);
  return { data: rows.slice(0, 20), nextCursor: null };
});

app.post('/v1/payments', async (req, reply) => {
  const key = String(req.headers['idempotency-key']);
  const body = req.body as { amount: number; currency: string; customerId: string; paymentMethod: string };
  const scope = 'payments.create:bench';
  await claim(scope, key, sha(JSON.stringify(body)));
  const id = newId('pay');
  const providerKey = `cb_pay_${sha(`${scope}:${key}`).slice(0, 40)}`;
  const at = new Date();
  await store.query(
    `INSERT INTO payments (id, provider_idempotency_key, request_hash, customer_id, amount, currency, payment_method, description, metadata, receipt_email, status, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, 'processing', $11, $12, $12)
     ON CONFLICT (provider_idempotency_key) DO NOTHING RETURNING *`,
    [
      id,
      providerKey,
      'h',
      body.customerId,
      body.amount,
      body.currency,
      body.paymentMethod,
      null,
      '{}',
      null,
      'usr_bench',
      at,
    ],
  );
  await store.query('SELECT * FROM payments WHERE id = $1', [id]);
  const charge = await signedPost(
    '/api/v1/charges',
    {
      amount: body.amount,
      currency: body.currency.toLowerCase(),
      customer: body.customerId,
      payment_method: body.paymentMethod,
      metadata: { carebridge_payment_id: id },
    },
    providerKey,
  );
  const payment = await store.transaction(async (tx) => {
    await tx.query('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [id]);
    const { rows } = await tx.query(
      `UPDATE payments SET status = $2, provider_charge_id = $3, failure_code = $4, decline_code = $5, failure_message = $6, updated_at = $7
       WHERE id = $1 RETURNING *`,
      [id, charge.status, charge.id, null, null, null, new Date()],
    );
    await metric(tx, id, 'payment_succeeded', body.amount, body.currency, at);
    return rows[0];
  });
  await complete(scope, key, { status: 201, body: payment });
  return reply.code(201).send(payment);
});

app.post('/v1/payments/:id/refunds', async (req, reply) => {
  const key = String(req.headers['idempotency-key']);
  const paymentId = (req.params as { id: string }).id;
  const amount = (req.body as { amount: number }).amount;
  const scope = 'refunds.create:bench';
  await claim(scope, key, sha(`${paymentId}:${amount}`));
  const { rows: payments } = await store.query<{ provider_charge_id: string; currency: string }>(
    'SELECT * FROM payments WHERE id = $1',
    [paymentId],
  );
  const payment = payments[0]!;
  const id = newId('re');
  const providerKey = `cb_re_${sha(`${scope}:${key}`).slice(0, 40)}`;
  const at = new Date();
  await store.query(
    `INSERT INTO payment_refunds (id, payment_id, provider_idempotency_key, request_hash, amount, currency, reason, status, created_by, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'processing', $8, $9, $9)
     ON CONFLICT (provider_idempotency_key) DO NOTHING RETURNING *`,
    [id, paymentId, providerKey, 'h', amount, payment.currency, null, 'usr_bench', at],
  );
  const refund = await signedPost(
    '/api/v1/refunds',
    {
      charge: payment.provider_charge_id,
      amount,
      metadata: { carebridge_refund_id: id, carebridge_payment_id: paymentId },
    },
    providerKey,
  );
  const row = await store.transaction(async (tx) => {
    await tx.query('SELECT * FROM payment_refunds WHERE id = $1 FOR UPDATE', [id]);
    await tx.query('SELECT * FROM payments WHERE id = $1 FOR UPDATE', [paymentId]);
    const { rows } = await tx.query(
      'UPDATE payment_refunds SET status = $2, provider_refund_id = $3, amount = $4, failure_reason = $5, updated_at = $6 WHERE id = $1 RETURNING *',
      [id, refund.status, refund.id, refund.amount, null, at],
    );
    await tx.query(
      `UPDATE payments SET amount_refunded = (SELECT COALESCE(SUM(amount), 0) FROM payment_refunds WHERE payment_id = $1 AND status IN ('pending', 'succeeded')), updated_at = $2 WHERE id = $1`,
      [paymentId, at],
    );
    await metric(tx, paymentId, 'refund_succeeded', amount, payment.currency, at);
    return rows[0];
  });
  await store.query(
    'INSERT INTO audit_log (actor, action, resource, outcome, request_id, details) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
    [
      'usr_bench',
      'refunds.create',
      `payment:${paymentId}`,
      'success',
      req.id,
      JSON.stringify({ refundId: id }),
    ],
  );
  await complete(scope, key, { status: 201, body: row });
  return reply.code(201).send(row);
});

app.post('/v1/notifications/email', async (req, reply) => {
  const key = String(req.headers['idempotency-key']);
  const body = req.body as { to: string; subject: string; text: string };
  const scope = 'notifications.email:bench';
  await claim(scope, key, sha(JSON.stringify(body)));
  const id = newId('ntf');
  const now = new Date().toISOString();
  await store.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO notifications (id, channel, status, recipient_masked, template, correlation_id, timestamps, created_at, updated_at)
       VALUES ($1, $2, 'accepted', $3, $4, $5, jsonb_build_object('accepted', $6::text), $6::timestamptz, $6::timestamptz)
       ON CONFLICT (id) DO NOTHING`,
      [id, 'email', 'p*****@example.test', null, req.id, now],
    );
    await tx.query(
      'INSERT INTO outbox (id, destination, key, payload, headers) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)',
      [
        id,
        'rabbitmq:email_notifications',
        null,
        JSON.stringify({ id, channel: 'email', content: body }),
        '{}',
      ],
    );
  });
  const { rows } = await store.query('SELECT * FROM notifications WHERE id = $1', [id]);
  await complete(scope, key, { status: 202, body: rows[0] });
  return reply.code(202).send({ id, status: 'accepted' });
});

// The same statements as PaymentWebhookProcessor.receive, then (in the background) .process for a charge or
// refund the ledger already has in that state: read the event back, lock the row, mark the event processed.
app.register(async (scoped) => {
  scoped.removeContentTypeParser('application/json');
  scoped.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );
  scoped.post('/webhooks/payments', async (req, reply) => {
    const raw = req.body as string;
    const header = req.headers['webhook-signature'] as string | undefined;
    const verified = verifyWebhookSignature(raw, header, {
      secrets: webhookSecrets,
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    if (!verified.ok) return reply.code(401).send({ code: 'PAYMENTS_WEBHOOK_SIGNATURE_INVALID' });
    const event = JSON.parse(raw) as {
      id: string;
      type: string;
      data: { object: { metadata?: Record<string, string> } };
    };
    const ins = await store.query(
      'INSERT INTO webhook_events (provider, event_id, event_type, raw_body) VALUES ($1, $2, $3, $4) ON CONFLICT (provider, event_id) DO NOTHING',
      ['payments', event.id, event.type, raw],
    );
    void applyEvent(event.id).catch(() => {});
    return { received: true, duplicate: ins.rowCount === 0 };
  });
});

async function applyEvent(eventId: string): Promise<void> {
  const { rows } = await store.query<{ raw_body: string; processed_at: Date | null }>(
    'SELECT raw_body, processed_at FROM webhook_events WHERE provider = $1 AND event_id = $2',
    ['payments', eventId],
  );
  const row = rows[0];
  if (!row || row.processed_at) return;
  const event = JSON.parse(row.raw_body) as {
    type: string;
    data: { object: { metadata?: Record<string, string> } };
  };
  const meta = event.data.object.metadata ?? {};
  const id = event.type.startsWith('refund.') ? meta.carebridge_refund_id : meta.carebridge_payment_id;
  if (id) {
    const table = event.type.startsWith('refund.') ? 'payment_refunds' : 'payments';
    await store.transaction(async (tx) => {
      await tx.query(`SELECT * FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
    });
  }
  await store.query(
    'UPDATE webhook_events SET processed_at = now(), attempts = attempts + 1, last_error = NULL WHERE provider = $1 AND event_id = $2',
    ['payments', eventId],
  );
}

// The gateway answers a permission check from its decision cache in steady state: no I/O to mirror.
app.post('/v1/permissions/check', async (req) => {
  const body = req.body as { permissions: string[] };
  return {
    subject: 'usr_bench',
    results: body.permissions.map((permission) => ({ permission, allowed: true })),
  };
});

const url = await app.listen({ port: Number(env.BASELINE_PORT ?? 0), host: '127.0.0.1' });
ownUrl = url;
process.stdout.write(`baseline listening on ${url}\n`);

const stop = async () => {
  await app.close();
  await processor.close();
  await sandbox?.close();
  await store.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
