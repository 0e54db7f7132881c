import { describe, expect, it } from 'vitest';
import { HealthRegistry } from './health.js';

describe('readiness report', () => {
  it('shows each target with only its credentials masked', async () => {
    const health = new HealthRegistry();
    health.register({
      name: 'payments',
      required: false,
      target: 'http://127.0.0.1:43210',
      check: () => ({ status: 'up', detail: 'sandbox' }),
    });
    health.register({
      name: 'rabbitmq',
      required: false,
      target: 'amqp://guest:guest@127.0.0.1:5672/care',
      check: () => ({ status: 'down', detail: 'cannot reach amqp://guest:guest@127.0.0.1:5672/care' }),
    });
    const report = await health.report();
    expect(report.checks.payments).toMatchObject({ target: 'http://127.0.0.1:43210' });
    expect(report.checks.rabbitmq).toMatchObject({
      target: 'amqp://***@127.0.0.1:5672/care',
      detail: 'cannot reach amqp://***@127.0.0.1:5672/care',
    });
  });
});
