import { describe, expect, it } from 'vitest';
import { opaqueToken, prefixedUlid } from './ids.js';

describe('prefixedUlid', () => {
  const pay = prefixedUlid('pay', 'a payment');
  it('accepts exactly <prefix>_<ULID>', () => {
    expect(pay.safeParse('pay_01J9Z8Q4V7X2M3N5P6R8S9T0VW').success).toBe(true);
    for (const bad of [
      'pay_',
      'pay_01J9Z8Q4V7X2M3N5P6R8S9T0V',
      'pay_01J9Z8Q4V7X2M3N5P6R8S9T0VWX',
      're_01J9Z8Q4V7X2M3N5P6R8S9T0VW',
      'pay_01J9Z8Q4V7X2M3N5P6R8S9T0VU',
      'pay_\u0000',
      '.\u0000.',
    ])
      expect(pay.safeParse(bad).success, bad).toBe(false);
  });
});

describe('opaqueToken', () => {
  it('accepts letters, digits, _ and -, bounded', () => {
    const evt = opaqueToken(255, 'an event id');
    expect(evt.safeParse('evt_stale_3f2a-9c').success).toBe(true);
    for (const bad of ['', 'evt_\u0000', 'evt x', `evt_${'x'.repeat(252)}`])
      expect(evt.safeParse(bad).success, bad).toBe(false);
  });
});
