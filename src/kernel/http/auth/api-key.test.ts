import { describe, expect, it } from 'vitest';
import type { SignableRequest } from '../types.js';
import { apiKeySigner } from './api-key.js';

const request = (): SignableRequest => ({
  method: 'GET',
  url: new URL('http://x/y'),
  headers: {},
  body: undefined,
});

describe('apiKeySigner', () => {
  it('adds the key on every attempt, in Authorization or a custom header', async () => {
    const a = request();
    await apiKeySigner({ key: 'k_test_1' }).sign(a);
    expect(a.headers.authorization).toBe('Bearer k_test_1');
    const b = request();
    await apiKeySigner({ key: 'k_test_1', header: 'X-Api-Key' }).sign(b);
    expect(b.headers['x-api-key']).toBe('k_test_1');
  });

  it('refuses an empty key at construction', () => {
    expect(() => apiKeySigner({ key: '' })).toThrow(RangeError);
  });
});
