import { describe, expect, it } from 'vitest';
import { notificationsComponent } from '../../src/cli/components/notifications.js';
import { loadConfig } from '../../src/cli/config.js';
import { testRuntimeContext } from '../support/runtime-context.js';

const load = (env: Record<string, string>) => loadConfig({ env, cwd: '/nonexistent' });
const prodBase = {
  CAREBRIDGE_PROFILE: 'production',
  DATABASE_URL: 'postgres://cb@db.internal:5432/cb',
};

describe('notifications settings', () => {
  it('defaults to the local broker in development and test', () => {
    expect(load({ CAREBRIDGE_PROFILE: 'test' }).rabbitmqUrl).toBe('amqp://guest:guest@127.0.0.1:5672');
    expect(load({ CAREBRIDGE_PROFILE: 'test' }).notificationsRetryDelaysMs).toEqual([1000, 5000, 30000]);
  });

  it('refuses a missing or plain-text broker URL in production', () => {
    expect(() => load(prodBase)).toThrow(/RABBITMQ_URL: required in production/);
    expect(() => load({ ...prodBase, RABBITMQ_URL: 'amqp://svc@mq.internal:5672/prod' })).toThrow(
      /RABBITMQ_URL: production refuses plain-text transports/,
    );
  });

  it('refuses malformed retry delays and non-AMQP URLs', () => {
    expect(() =>
      load({ CAREBRIDGE_PROFILE: 'test', CAREBRIDGE_NOTIFICATIONS_RETRY_DELAYS_MS: '10,soon' }),
    ).toThrow(/CAREBRIDGE_NOTIFICATIONS_RETRY_DELAYS_MS/);
    expect(() => load({ CAREBRIDGE_PROFILE: 'test', RABBITMQ_URL: 'http://127.0.0.1:5672' })).toThrow(
      /RABBITMQ_URL/,
    );
  });

  it('fails start-up naming the TLS file it cannot read', async () => {
    const ctx = testRuntimeContext({
      env: { RABBITMQ_URL: 'amqps://mq.internal:5671', RABBITMQ_CA_FILE: '/nonexistent/ca.pem' },
    });
    await expect(notificationsComponent.start(ctx)).rejects.toThrow(
      /RABBITMQ_CA_FILE: cannot read \/nonexistent\/ca.pem/,
    );
  });
});
