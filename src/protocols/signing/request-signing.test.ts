import { describe, expect, it } from 'vitest';
import { canonicalPath, canonicalQuery, canonicalString, sha256Hex } from './canonical.js';
import { type SignableRequest, V1RequestSigner } from './request-signer.js';
import { MemoryNonceStore, type V1VerifyInput, verifyV1Request } from './request-verifier.js';

// Vector computed independently with coreutils/openssl (see docs/integrations/payments.md, "Signing").
const BODY = '{"amount":1250}';
const BODY_SHA = '9fb40105c56271ac9d6a8da0a6f584dd901d66e4d55081684160a5bc608c7b08';
const VECTOR_SIGNATURE = 'c8cb5cc897b0d7306ed742da92317da5228e3993cad00330958fe4f573ab104b';
const NOW = 1767225600;

function signed(
  body = BODY,
  opts: { secrets?: string[]; now?: number; nonce?: string } = {},
): SignableRequest {
  const req: SignableRequest = {
    method: 'POST',
    url: new URL('http://127.0.0.1/api/v1/charges?b=x%20y&a=1'),
    headers: { 'content-type': 'application/json', 'idempotency-key': 'order-42' },
    body: Buffer.from(body),
  };
  new V1RequestSigner({
    apiKey: 'pk_test_vector',
    secrets: opts.secrets ?? ['sk_test_secret'],
    now: () => opts.now ?? NOW,
    nonce: () => opts.nonce ?? 'n0nce',
  }).sign(req);
  return req;
}

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

describe('v1 canonical string', () => {
  it('matches the documented test vector', () => {
    const s = canonicalString({
      method: 'post',
      path: '/api/v1/charges',
      query: [
        ['b', 'x y'],
        ['a', '1'],
      ],
      apiKey: 'pk_test_vector',
      timestamp: String(NOW),
      nonce: 'n0nce',
      idempotencyKey: 'order-42',
      contentType: 'Application/JSON',
      bodySha256: sha256Hex(BODY),
    });
    expect(s).toBe(
      `v1\nPOST\n/api/v1/charges\na=1&b=x%20y\npk_test_vector\n${NOW}\nn0nce\norder-42\napplication/json\n${BODY_SHA}`,
    );
  });

  it('normalises dot-segments and encodes each path segment once', () => {
    expect(canonicalPath('/api/v1/./charges/../charges//ch_1')).toBe('/api/v1/charges/ch_1');
    expect(canonicalPath('/api/v1/charges/a%20b')).toBe('/api/v1/charges/a%20b');
    expect(canonicalPath("/x/it's")).toBe('/x/it%27s');
  });

  it('sorts query parameters by name then value', () => {
    expect(
      canonicalQuery([
        ['limit', '10'],
        ['a', '2'],
        ['a', '1'],
      ]),
    ).toBe('a=1&a=2&limit=10');
  });

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
