import { describe, expect, it } from 'vitest';
import { BODY, BODY_SHA, NOW, signed, VECTOR_SIGNATURE } from '../../../test/support/signing-vector.js';
import { type SignableRequest, V1RequestSigner } from './request-signer.js';

describe('V1RequestSigner', () => {
  it('the signer produces the vector signature and all v1 headers', () => {
    const req = signed();
    expect(req.headers['x-signature']).toBe(`v1=${VECTOR_SIGNATURE}`);
    expect(req.headers['content-sha256']).toBe(BODY_SHA);
    expect(req.headers['x-timestamp']).toBe(String(NOW));
    expect(req.headers['x-api-key']).toBe('pk_test_vector');
  });

  it('signs with every secret during a rotation', () => {
    const req = signed(BODY, { secrets: ['sk_a', 'sk_test_secret'] });
    expect(req.headers['x-signature']?.split(', ')).toHaveLength(2);
    expect(req.headers['x-signature']).toContain(VECTOR_SIGNATURE);
  });

  it('re-signing gives a fresh nonce and keeps the idempotency key', () => {
    const req: SignableRequest = {
      method: 'POST',
      url: new URL('http://h/api/v1/charges'),
      headers: {},
      body: Buffer.from('{}'),
      idempotencyKey: 'k1',
    };
    const signer = new V1RequestSigner({ apiKey: 'pk', secrets: ['s'] });
    signer.sign(req);
    const first = { ...req.headers };
    signer.sign(req);
    expect(req.headers['x-nonce']).not.toBe(first['x-nonce']);
    expect(req.headers['idempotency-key']).toBe('k1');
  });

  it('refuses to be built without secrets', () => {
    expect(() => new V1RequestSigner({ apiKey: 'pk', secrets: [] })).toThrow(RangeError);
  });
});
