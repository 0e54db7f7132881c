import { describe, expect, it } from 'vitest';
import { signWebhookPayload, verifyWebhookSignature } from './webhook-signature.js';

const NOW = 1767225600;
const RAW = '{"id":"evt_1"}';

describe('webhook signature', () => {
  it('matches the vector computed with openssl', () => {
    expect(signWebhookPayload(RAW, ['whsec_test'], NOW)).toBe(
      `t=${NOW},v1=45b40331de0325606dc5400202ade162460fbe48daf9401adfdcd0d7b4f35470`,
    );
  });

  it('accepts a valid signature', () => {
    const header = signWebhookPayload(RAW, ['whsec_test'], NOW);
    expect(verifyWebhookSignature(RAW, header, { secrets: ['whsec_test'], nowSeconds: NOW + 10 })).toEqual({
      ok: true,
      timestamp: NOW,
    });
  });

  it('rejects a tampered body, even one that parses to the same JSON', () => {
    const header = signWebhookPayload('{"weight":136.0}', ['whsec_test'], NOW);
    const r = verifyWebhookSignature('{"weight":136}', header, { secrets: ['whsec_test'], nowSeconds: NOW });
    expect(r).toMatchObject({ ok: false, reason: 'signature_mismatch' });
  });

  it('rejects an expired signature', () => {
    const header = signWebhookPayload(RAW, ['whsec_test'], NOW);
    expect(
      verifyWebhookSignature(RAW, header, { secrets: ['whsec_test'], nowSeconds: NOW + 301 }),
    ).toMatchObject({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
  });

  it('accepts during a rotation: signed with old and new, verified with either', () => {
    const header = signWebhookPayload(RAW, ['whsec_old', 'whsec_new'], NOW);
    expect(verifyWebhookSignature(RAW, header, { secrets: ['whsec_new'], nowSeconds: NOW }).ok).toBe(true);
    expect(verifyWebhookSignature(RAW, header, { secrets: ['whsec_old'], nowSeconds: NOW }).ok).toBe(true);
    expect(
      verifyWebhookSignature(RAW, `${header},v1=potato`, { secrets: ['whsec_new'], nowSeconds: NOW }).ok,
    ).toBe(true);
    expect(verifyWebhookSignature(RAW, header, { secrets: ['whsec_other'], nowSeconds: NOW }).ok).toBe(false);
  });

  it('rejects a missing or malformed header', () => {
    expect(verifyWebhookSignature(RAW, undefined, { secrets: ['s'], nowSeconds: NOW })).toMatchObject({
      reason: 'missing_header',
    });
    expect(verifyWebhookSignature(RAW, 'v0=abc', { secrets: ['s'], nowSeconds: NOW })).toMatchObject({
      reason: 'malformed_header',
    });
  });
});
