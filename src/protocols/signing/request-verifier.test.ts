import { describe, expect, it } from 'vitest';
import { BODY, NOW, signed } from '../../../test/support/signing-vector.js';
import type { SignableRequest } from './request-signer.js';
import { MemoryNonceStore, type V1VerifyInput, verifyV1Request } from './request-verifier.js';

function input(req: SignableRequest, overrides: Partial<V1VerifyInput> = {}): V1VerifyInput {
  return {
    method: req.method,
    path: req.url.pathname,
    query: [...req.url.searchParams.entries()],
    headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: req.body,
    ...overrides,
  };
}

const keys: Record<string, string[]> = { pk_test_vector: ['sk_test_old', 'sk_test_secret'] };
const verify = (i: V1VerifyInput, now = NOW, nonces = new MemoryNonceStore(() => now)) =>
  verifyV1Request(i, { secretsFor: (k) => keys[k], nonces, nowSeconds: now });

describe('v1 verification', () => {
  it('accepts a valid request signed with any active secret', async () => {
    expect(await verify(input(signed()))).toEqual({ ok: true, apiKey: 'pk_test_vector' });
    expect((await verify(input(signed(BODY, { secrets: ['sk_test_old'] })))).ok).toBe(true);
  });

  it('missing_signature_header when a header is absent', async () => {
    const i = input(signed());
    delete i.headers['x-nonce'];
    expect(await verify(i)).toMatchObject({
      ok: false,
      code: 'missing_signature_header',
      message: 'Missing signing header(s): X-Nonce.',
    });
  });

  it('invalid_api_key for an unknown key', async () => {
    const i = input(signed());
    i.headers['x-api-key'] = 'pk_unknown';
    expect(await verify(i)).toMatchObject({ ok: false, code: 'invalid_api_key' });
  });

  it('timestamp_out_of_tolerance beyond 300 s either way, accepted at exactly 300 s', async () => {
    expect(await verify(input(signed()), NOW + 301)).toMatchObject({ code: 'timestamp_out_of_tolerance' });
    expect(await verify(input(signed()), NOW - 301)).toMatchObject({ code: 'timestamp_out_of_tolerance' });
    expect((await verify(input(signed()), NOW + 300)).ok).toBe(true);
  });

  it('body_digest_mismatch when the body was changed in transit', async () => {
    expect(await verify(input(signed(), { rawBody: Buffer.from('{"amount":9999}') }))).toMatchObject({
      code: 'body_digest_mismatch',
    });
  });

  it('signature_mismatch when a signed field changed or the secret is wrong', async () => {
    expect(await verify(input(signed(), { path: '/api/v1/refunds' }))).toMatchObject({
      code: 'signature_mismatch',
    });
    const swapped = input(signed());
    swapped.headers['idempotency-key'] = 'order-43';
    expect(await verify(swapped)).toMatchObject({ code: 'signature_mismatch' });
    expect(await verify(input(signed(BODY, { secrets: ['sk_wrong'] })))).toMatchObject({
      code: 'signature_mismatch',
    });
  });

  it('nonce_reused on a byte-identical replay, and a bad signature does not burn the nonce', async () => {
    const nonces = new MemoryNonceStore(() => NOW);
    const bad = input(signed(BODY, { secrets: ['sk_wrong'] }));
    expect(await verify(bad, NOW, nonces)).toMatchObject({ code: 'signature_mismatch' });
    expect((await verify(input(signed()), NOW, nonces)).ok).toBe(true);
    expect(await verify(input(signed()), NOW, nonces)).toMatchObject({ code: 'nonce_reused' });
  });
});
