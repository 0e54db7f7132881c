import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPONENTS } from '../../src/cli/components/index.js';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime } from '../../src/cli/runtime.js';
import { NOTIFICATION_DESTINATIONS } from '../../src/integrations/notifications/index.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { BUSINESS_METRICS_DESTINATION } from '../../src/protocols/analytics/index.js';

const SRC = path.resolve(import.meta.dirname, '../../src');

/**
 * Every place that writes to the outbox, and the destinations it writes. A write no transport delivers waits
 * for good and leaves /health/ready degraded (issue #13 §2), so each destination here must have a transport in
 * every profile, or its writer marks it `optional` (left out, counted, until its transport exists).
 */
const WRITERS: Record<string, { destinations: string[]; optional: boolean }> = {
  'integrations/notifications/ledger.ts': {
    destinations: Object.values(NOTIFICATION_DESTINATIONS),
    optional: false,
  },
  // The analytics transport (`kafka:`) comes with the analytics integration; until then metrics are left out.
  'protocols/analytics/business-metric.ts': { destinations: [BUSINESS_METRICS_DESTINATION], optional: true },
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const BASE = { PORT: '0', LOG_LEVEL: 'silent', CAREBRIDGE_DATA_DIR: 'memory://' };
/** Production rules, with the in-process sandboxes and loopback brokers allowed so it runs on this machine. */
const PRODUCTION_LIKE = {
  CAREBRIDGE_PROFILE: 'production',
  CAREBRIDGE_MIGRATE_ON_START: 'true',
  CAREBRIDGE_ALLOW_SANDBOX: 'true',
  CAREBRIDGE_ALLOW_INSECURE_TRANSPORT: 'true',
  PAYMENTS_BASE_URL: 'sandbox',
  PAYMENTS_API_KEY: 'pk_test_production_like',
  PAYMENTS_API_SECRETS: 'sk_test_production_like_1',
  PAYMENTS_WEBHOOK_SECRETS: 'whsec_production_like_1',
  USERS_TARGET: 'sandbox',
  USERS_TLS: 'false',
  RABBITMQ_URL: process.env.RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  CAREBRIDGE_NOTIFICATIONS_SANDBOX: 'true',
};

describe('outbox destinations', () => {
  it('are all listed: every file outside the kernel that imports the outbox enqueue is a known writer', () => {
    const importsEnqueue = /import\s*\{[^}]*\benqueue\b[^}]*\}\s*from\s*'[./]*kernel\/store\/index\.js'/;
    const writers = sourceFiles(SRC)
      .filter((f) => importsEnqueue.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .sort();
    expect(writers).toEqual(Object.keys(WRITERS).sort());
    for (const [file, w] of Object.entries(WRITERS)) {
      expect(readFileSync(path.join(SRC, file), 'utf8').includes('optional: true'), file).toBe(w.optional);
    }
  });

  it.each([
    ['development', { ...BASE, CAREBRIDGE_PROFILE: 'development' }],
    ['test', { ...BASE, CAREBRIDGE_PROFILE: 'test' }],
    ['production-like', { ...BASE, ...PRODUCTION_LIKE }],
  ])('each has a transport in the %s runtime, or is optional', async (_profile, env) => {
    const config = loadConfig({ env, cwd: '/nonexistent' });
    const runtime = await createRuntime({
      config,
      logger: createLogger({ level: 'silent' }),
      components: COMPONENTS,
    });
    try {
      const outbox = runtime.store.outbox;
      expect(outbox).toBeDefined();
      for (const w of Object.values(WRITERS)) {
        for (const d of w.destinations) {
          if (!w.optional) expect(outbox?.accepts(d), d).toBe(true);
        }
      }
    } finally {
      await runtime.stop();
    }
  });

  it('a payment with a receipt leaves only rows a transport delivers (it left kafka:business_metrics waiting)', async () => {
    const config = loadConfig({ env: { ...BASE, CAREBRIDGE_PROFILE: 'test' }, cwd: '/nonexistent' });
    const runtime = await createRuntime({
      config,
      logger: createLogger({ level: 'silent' }),
      components: COMPONENTS,
    });
    try {
      const signIn = await runtime.app.inject({
        method: 'POST',
        url: '/v1/auth/token',
        payload: { username: 'admin', password: config.devAdminPassword },
      });
      const paid = await runtime.app.inject({
        method: 'POST',
        url: '/v1/payments',
        headers: {
          authorization: `Bearer ${signIn.json().access_token}`,
          'idempotency-key': 'b7c6a3f0-6a51-4a43-9f0e-0d6f1d0e5a11',
        },
        payload: {
          amount: 1250,
          currency: 'USD',
          customerId: 'cus_demo_1',
          paymentMethod: 'pm_card_visa',
          receiptEmail: 'demo@example.com',
        },
      });
      expect(paid.statusCode).toBe(201);
      const { rows } = await runtime.store.query<{ destination: string }>(
        'SELECT DISTINCT destination FROM outbox ORDER BY destination',
      );
      expect(rows).toEqual([{ destination: NOTIFICATION_DESTINATIONS.email }]);
    } finally {
      await runtime.stop();
    }
  });
});
