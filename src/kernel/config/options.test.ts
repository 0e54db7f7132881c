import { describe, expect, it } from 'vitest';
import { rejectUnknownOptions } from './options.js';

describe('rejectUnknownOptions', () => {
  it('names every unknown key and its owner', () => {
    expect(() => rejectUnknownOptions('Thing', { a: 1, maxAttempt: 3, b: 2 }, ['a', 'b'])).toThrow(
      new RangeError('Thing: unknown option(s) maxAttempt'),
    );
    expect(() => rejectUnknownOptions('Thing', { x: 1, y: 2 }, [])).toThrow(/unknown option\(s\) x, y$/);
  });

  it('accepts known keys, set or not', () => {
    expect(() => rejectUnknownOptions('Thing', { a: undefined }, new Set(['a', 'b']))).not.toThrow();
  });
});
