import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { describe, expect, it } from 'vitest';
import { ConfigFlagProvider } from './flag-provider.js';
import { FeatureFlags, type FlagTable, flag, resolveFlags } from './flags.js';

const TABLE: FlagTable = {
  'eligibility.soap.enabled': flag({ default: false, description: 'SOAP eligibility.' }),
  'notifications.batch.enabled': flag({ default: true, description: 'Batch sends.' }),
};

describe('FeatureFlags', () => {
  it('starts from the defaults and applies on/off overrides', async () => {
    const flags = new FeatureFlags(TABLE, ['eligibility.soap.enabled', '-notifications.batch.enabled']);
    expect(await flags.isEnabled('eligibility.soap.enabled')).toBe(true);
    expect(await flags.isEnabled('notifications.batch.enabled')).toBe(false);
    expect(await new FeatureFlags(TABLE).isEnabled('notifications.batch.enabled')).toBe(true);
  });

  it('refuses an unknown flag name so a typo cannot go unnoticed', async () => {
    expect(() => new FeatureFlags(TABLE, ['-notifications.batch.enable'])).toThrow(
      'CAREBRIDGE_FEATURE_FLAGS: unknown flag "notifications.batch.enable" (known: eligibility.soap.enabled, notifications.batch.enabled)',
    );
    await expect(new FeatureFlags(TABLE).isEnabled('payments.enabled')).rejects.toThrow(RangeError);
    expect(() => new FeatureFlags({ Payments: flag({ default: true, description: 'x' }) })).toThrow(
      /not area\.name/,
    );
  });

  it('applies a reload at once, says which flags changed, and keeps its values when the reload is invalid', async () => {
    const flags = new FeatureFlags(TABLE);
    expect(flags.set(['-notifications.batch.enabled'])).toEqual({ 'notifications.batch.enabled': false });
    expect(await flags.isEnabled('notifications.batch.enabled')).toBe(false);
    expect(() => flags.set(['nope.enabled'])).toThrow(/unknown flag "nope\.enabled"/);
    expect(flags.snapshot()).toEqual({
      'eligibility.soap.enabled': false,
      'notifications.batch.enabled': false,
    });
    expect(flags.set([])).toEqual({ 'notifications.batch.enabled': true });
    expect(await flags.isEnabled('notifications.batch.enabled')).toBe(true);
  });

  it('keeps the flags of two runtimes in one process apart (an OpenFeature domain each)', async () => {
    const a = new FeatureFlags(TABLE, ['-notifications.batch.enabled']);
    const b = new FeatureFlags(TABLE);
    expect(await a.isEnabled('notifications.batch.enabled')).toBe(false);
    expect(await b.isEnabled('notifications.batch.enabled')).toBe(true);
    await a.close();
    expect(await b.isEnabled('notifications.batch.enabled')).toBe(true);
  });
});

describe('ConfigFlagProvider', () => {
  it('answers through OpenFeature with the reason and announces changed flags', async () => {
    const provider = new ConfigFlagProvider(resolveFlags(TABLE, ['eligibility.soap.enabled']));
    await OpenFeature.setProviderAndWait('flag-provider-test', provider);
    const client = OpenFeature.getClient('flag-provider-test');
    expect(await client.getBooleanDetails('eligibility.soap.enabled', false)).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'STATIC',
    });
    expect(await client.getBooleanDetails('notifications.batch.enabled', false)).toMatchObject({
      value: true,
      reason: 'DEFAULT',
    });
    expect(await client.getBooleanDetails('missing.flag', true)).toMatchObject({
      value: true,
      errorCode: 'FLAG_NOT_FOUND',
    });
    expect(await client.getStringDetails('eligibility.soap.enabled', 'x')).toMatchObject({
      errorCode: 'TYPE_MISMATCH',
    });
    const announced: unknown[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (e) => announced.push(e?.flagsChanged));
    provider.update(resolveFlags(TABLE, ['-notifications.batch.enabled']));
    await expect.poll(() => announced).toEqual([['eligibility.soap.enabled', 'notifications.batch.enabled']]);
  });
});
