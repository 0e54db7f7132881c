import { describe, expect, it } from 'vitest';
import { errors } from '../../kernel/errors/index.js';
import { toCareBridgeError } from './errors.js';

const answer = (
  status: number,
  error: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) => ({ status, headers, body: { error } });

describe('toCareBridgeError', () => {
  it('maps card declines with their decline code, not retryable', () => {
    const e = toCareBridgeError(
      answer(402, {
        type: 'card_error',
        code: 'card_declined',
        decline_code: 'insufficient_funds',
        charge: 'ch_1',
      }),
    );
    expect(e).toMatchObject({ code: 'PAYMENTS_CARD_DECLINED', httpStatus: 402, retryable: false });
    expect(e.details).toMatchObject({ declineCode: 'insufficient_funds', providerChargeId: 'ch_1' });
  });

  it('maps a processing error as retryable (as a new payment)', () => {
    expect(toCareBridgeError(answer(402, { type: 'card_error', code: 'processing_error' }))).toMatchObject({
      code: 'PAYMENTS_PROCESSING_ERROR',
      retryable: true,
    });
  });

  it("maps signature and key failures to PAYMENTS_AUTHENTICATION_FAILED (502: our problem, not the caller's)", () => {
    const e = toCareBridgeError(answer(401, { type: 'authentication_error', code: 'nonce_reused' }));
    expect(e).toMatchObject({ code: 'PAYMENTS_AUTHENTICATION_FAILED', httpStatus: 502 });
    expect(e.details?.providerCode).toBe('nonce_reused');
  });

  it('maps 429 with Retry-After seconds', () => {
    expect(
      toCareBridgeError(answer(429, { type: 'rate_limit_error' }, { 'retry-after': '7' })),
    ).toMatchObject({
      code: 'PAYMENTS_RATE_LIMITED',
      retryable: true,
      retryAfterSeconds: 7,
    });
  });

  it('maps idempotency errors, in-use keys, refunds and invalid requests', () => {
    expect(toCareBridgeError(answer(400, { type: 'idempotency_error' })).code).toBe(
      'PAYMENTS_IDEMPOTENCY_CONFLICT',
    );
    expect(toCareBridgeError(answer(409, { code: 'idempotency_key_in_use' }))).toMatchObject({
      code: 'PAYMENTS_PROVIDER_UNAVAILABLE',
      retryable: true,
    });
    expect(toCareBridgeError(answer(400, { code: 'amount_too_large', param: 'amount' })).code).toBe(
      'PAYMENTS_REFUND_AMOUNT_TOO_LARGE',
    );
    expect(toCareBridgeError(answer(400, { code: 'charge_already_refunded' })).code).toBe(
      'PAYMENTS_ALREADY_REFUNDED',
    );
    expect(toCareBridgeError(answer(400, { code: 'parameter_invalid', param: 'currency' }))).toMatchObject({
      code: 'PAYMENTS_INVALID_REQUEST',
      details: { field: 'currency' },
    });
  });

  it('maps an unknown payment method to its own code, naming the field', () => {
    const e = toCareBridgeError(
      answer(400, {
        code: 'resource_missing',
        param: 'payment_method',
        message: "No such PaymentMethod: 'pm_x'",
      }),
    );
    expect(e).toMatchObject({ code: 'PAYMENTS_PAYMENT_METHOD_UNKNOWN', httpStatus: 400, retryable: false });
    expect(e.details).toMatchObject({ field: 'paymentMethod' });
    expect(toCareBridgeError(answer(400, { code: 'resource_missing', param: 'price' })).code).toBe(
      'PAYMENTS_INVALID_REQUEST',
    );
  });

  it('maps 5xx to provider unavailable (retryable) and passes transport errors through', () => {
    expect(toCareBridgeError(answer(503))).toMatchObject({
      code: 'PAYMENTS_PROVIDER_UNAVAILABLE',
      retryable: true,
    });
    const t = errors.upstreamTimeout('slow');
    expect(toCareBridgeError(t)).toBe(t);
    expect(toCareBridgeError(new Error('boom')).code).toBe('PAYMENTS_UPSTREAM_ERROR');
  });

  it('never copies the provider message into the error', () => {
    const e = toCareBridgeError(answer(400, { code: 'x', message: 'secret upstream detail' }));
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain('secret upstream detail');
  });
});
