import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/cli/config.js';
import { createRuntime } from '../../src/cli/runtime.js';
import type { Authenticator, RouteModule } from '../../src/gateway/types.js';
import { createRateLimiters } from '../../src/kernel/resilience/index.js';
import { createLogger } from '../../src/kernel/telemetry/index.js';
import { buildTestGateway } from '../support/app.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
});

/** One caller, new on every run (Redis keeps buckets for a minute or so). */
const subject = `usr_shared_${randomBytes(6).toString('hex')}`;
const oneCaller: Authenticator = {
  async authenticate() {
    return { subject, kind: 'user', roles: [] };
  },
  async authorize() {
    return true;
  },
};
const probe: RouteModule = {
  name: 'probe',
  register(app) {
    app.get('/probe', { config: { permission: 'probe:read' } }, async () => ({ ok: true }));
  },
};

/** A gateway instance as a separate process would have it: its own Redis connection, or none. */
async function gateway(redis: Redis | undefined) {
  if (redis) clients.push(redis);
  return buildTestGateway({
    routes: [probe],
    authenticator: oneCaller,
    env: { CAREBRIDGE_PRINCIPAL_RATE_LIMIT_PER_MINUTE: '3' },
    limiters: createRateLimiters({ redis }),
  });
}

describe('per-caller rate limit across gateway instances', () => {
  it('is one combined limit when both instances use Redis', async () => {
    const [a, b] = [await gateway(new Redis(REDIS_URL)), await gateway(new Redis(REDIS_URL))];
    try {
      const statuses: number[] = [];
      for (const gw of [a, b, a, b, a]) statuses.push((await gw.app.inject({ url: '/v1/probe' })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const refused = await b.app.inject({ url: '/v1/probe' });
      expect(refused.json()).toMatchObject({ code: 'RATE_LIMITED' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('is a limit per instance without Redis (the in-memory default)', async () => {
    const [a, b] = [await gateway(undefined), await gateway(undefined)];
    try {
      const statuses: number[] = [];
      for (const gw of [a, b, a, b, a, b, a])
        statuses.push((await gw.app.inject({ url: '/v1/probe' })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 429]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('the runtime and REDIS_URL', () => {
  const configWith = (env: Record<string, string>) =>
    loadConfig({
      env: { CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_DATA_DIR: 'memory://', ...env },
      cwd: '/nonexistent',
    });

  it('shares its limits through Redis and shows redis in readiness when REDIS_URL is set', async () => {
    const runtime = await createRuntime({
      config: configWith({ REDIS_URL }),
      logger: createLogger({ level: 'silent' }),
      components: [],
    });
    try {
      expect(runtime.limiters.shared).toBe('redis');
      await expect
        .poll(async () => (await runtime.health.report()).checks.redis, { timeout: 5_000 })
        .toMatchObject({ status: 'up', required: false, detail: 'PONG' });
    } finally {
      await runtime.stop();
    }
  });

  it('says why Redis is unusable in readiness, and stays ready (optional)', async () => {
    const runtime = await createRuntime({
      config: configWith({ REDIS_URL: 'redis://127.0.0.1:1' }),
      logger: createLogger({ level: 'silent' }),
      components: [],
    });
    try {
      await expect
        .poll(async () => (await runtime.health.report()).checks.redis, { timeout: 5_000 })
        .toMatchObject({
          status: 'down',
          required: false,
          detail: expect.stringMatching(/connection refused/),
        });
      expect((await runtime.health.report()).status).toBe('degraded');
    } finally {
      await runtime.stop();
    }
  });

  it('limits in memory and has no redis check without REDIS_URL', async () => {
    const runtime = await createRuntime({
      config: configWith({}),
      logger: createLogger({ level: 'silent' }),
      components: [],
    });
    try {
      expect(runtime.limiters.shared).toBe('memory');
      expect(runtime.health.names()).not.toContain('redis');
    } finally {
      await runtime.stop();
    }
  });
});
