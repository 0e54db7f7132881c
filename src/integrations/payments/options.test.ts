import { describe, expect, it } from 'vitest';
import { createLogger, Metrics } from '../../kernel/telemetry/index.js';
import { type PaymentIntegrationOptions, resolveOptions } from './options.js';

const valid: PaymentIntegrationOptions = {
  baseUrl: 'http://127.0.0.1:9',
  apiKey: 'pk_test',
  apiSecrets: ['sk_test_1'],
  webhookSecrets: ['whsec_1'],
  store: {} as never,
  metrics: new Metrics({ defaultMetrics: false }),
  logger: createLogger({ level: 'silent' }),
};

describe('PaymentIntegration options', () => {
  it('fills documented defaults', () => {
    expect(resolveOptions(valid)).toMatchObject({
      maxAttempts: 3,
      attemptTimeoutMs: 10_000,
      webhookToleranceSeconds: 300,
      reconcileRounds: 2,
    });
  });

  it('rejects unknown keys (a typo throws at construction)', () => {
    expect(() => resolveOptions({ ...valid, maxAttempt: 3 } as never)).toThrow(
      /unknown option\(s\) maxAttempt/,
    );
  });

  it('checks ranges and required secrets', () => {
    expect(() => resolveOptions({ ...valid, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => resolveOptions({ ...valid, apiSecrets: [] })).toThrow(RangeError);
    expect(() => resolveOptions({ ...valid, baseUrl: 'not a url' })).toThrow(TypeError);
  });
});
