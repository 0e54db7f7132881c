import { describe, expect, it } from 'vitest';
import { paymentRequestSchema, validate } from './schemas.js';

const base = { amount: 1250, currency: 'USD', customerId: 'cus_1', paymentMethod: 'pm_card_visa' };

describe('money and request validation', () => {
  it('accepts integer minor units with an ISO 4217 currency', () => {
    expect(validate(paymentRequestSchema, base)).toEqual(base);
    expect(validate(paymentRequestSchema, { ...base, currency: 'JPY', amount: 500 }).currency).toBe('JPY');
  });

  it.each([
    [{ amount: 12.5 }, 'amount'],
    [{ amount: -100 }, 'amount'],
    [{ amount: 10 }, 'amount'],
    [{ amount: '1250' }, 'amount'],
    [{ currency: 'usd' }, 'currency'],
    [{ currency: 'XYZ' }, 'currency'],
    [{ paymentMethod: '4242424242424242' }, 'paymentMethod'],
    [{ metadata: { carebridge_payment_id: 'x' } }, 'metadata'],
    [{ unexpected: true }, 'body'],
  ])('refuses %j naming the field (%s) before any call', (patch, field) => {
    try {
      validate(paymentRequestSchema, { ...base, ...patch });
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'PAYMENTS_INVALID_REQUEST', httpStatus: 400 });
      expect(String((err as { details: { field: string } }).details.field)).toBe(field);
    }
  });
});
