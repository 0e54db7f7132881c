import { describe, expect, it } from 'vitest';
import { FeatureFlags } from './flags.js';

describe('FeatureFlags', () => {
  it('starts from the defaults and applies on/off overrides', () => {
    const flags = new FeatureFlags({ soapEligibility: false, batchSends: true }, [
      'soapEligibility',
      '-batchSends',
    ]);
    expect(flags.isEnabled('soapEligibility')).toBe(true);
    expect(flags.isEnabled('batchSends')).toBe(false);
  });

  it('refuses an unknown flag name so a typo cannot go unnoticed', () => {
    expect(() => new FeatureFlags({ batchSends: true }, ['batchSend'])).toThrow(/unknown flag "batchSend"/);
    expect(() => new FeatureFlags({}).isEnabled('x')).toThrow(RangeError);
  });
});
