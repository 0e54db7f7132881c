import { describe, expect, it } from 'vitest';
import { errors } from './catalog.js';
import { toProblem } from './problem.js';

describe('toProblem', () => {
  it('turns a CareBridgeError into problem details with its stable code', () => {
    const p = toProblem(
      errors.rateLimited('Slow down.', { retryAfterSeconds: 3, integration: 'payments' }),
      'req-1',
    );
    expect(p).toEqual({
      type: 'https://carebridge.dev/errors#rate_limited',
      title: 'Too Many Requests',
      status: 429,
      detail: 'Slow down.',
      code: 'RATE_LIMITED',
      requestId: 'req-1',
      integration: 'payments',
      retryable: true,
    });
  });

  it('hides the message and stack of an unknown throwable', () => {
    const p = toProblem(new Error('upstream said: {"card":"4242…"} at db.ts:12'), 'req-2');
    expect(p).toMatchObject({ status: 500, code: 'INTERNAL', detail: 'An unexpected error occurred.' });
    expect(JSON.stringify(p)).not.toMatch(/4242|db\.ts/);
  });

  it('keeps safe details but never lets them overwrite the standard members', () => {
    const p = toProblem(
      errors.forbidden('No.', { details: { permission: 'payments:create', status: 200, code: 'X' } }),
      'r',
    );
    expect(p).toMatchObject({ status: 403, code: 'FORBIDDEN', permission: 'payments:create' });
  });
});
