import { describe, expect, it } from 'vitest';
import { BODY, BODY_SHA, NOW } from '../../../test/support/signing-vector.js';
import { canonicalPath, canonicalQuery, canonicalString, sha256Hex } from './canonical.js';

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
});
