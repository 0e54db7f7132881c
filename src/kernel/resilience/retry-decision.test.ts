import { describe, expect, it } from 'vitest';
import { useFakeTimers } from '../../../test/support/fake-timers.js';
import { errors } from '../errors/index.js';
import { decideRetry } from './retry-decision.js';

useFakeTimers();

describe('decideRetry', () => {
  const options = { maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 1_000 };
  it('grows the backoff exponentially with half jitter, capped', () => {
    const at = (attempt: number, r: number) =>
      decideRetry(errors.upstreamError('x'), {
        attempt,
        options,
        idempotent: true,
        remainingMs: 60_000,
        random: () => r,
      });
    expect(at(1, 0.999)).toMatchObject({ retry: true, delayMs: 100 });
    expect(at(2, 0)).toMatchObject({ retry: true, delayMs: 100 });
    expect(at(2, 0.999)).toMatchObject({ retry: true, delayMs: 200 });
    expect(at(3, 0.999)).toMatchObject({ retry: true, delayMs: 400 });
    expect(at(4, 0.5)).toMatchObject({ retry: false, reason: 'max attempts reached' });
  });

  it('does not retry into our own refusals', () => {
    const e = errors.circuitOpen('open');
    expect(decideRetry(e, { attempt: 1, options, idempotent: true, remainingMs: 60_000 })).toMatchObject({
      retry: false,
    });
  });
});
