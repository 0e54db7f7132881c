import { describe, expect, it } from 'vitest';
import { formatMinor } from './side-effects.js';

describe('formatMinor', () => {
  it('formats minor units by the currency exponent', () => {
    expect(formatMinor(1250, 'USD')).toBe('12.50');
    expect(formatMinor(500, 'JPY')).toBe('500');
    expect(formatMinor(1234, 'KWD')).toBe('1.234');
  });
});
