import { hmacHex } from './request-signer.js';
import { safeEqualHex } from './request-verifier.js';

/**
 * Webhook signatures, Stripe's scheme: `Webhook-Signature: t=<unix>,v1=<hex>[,v1=<hex>]` where
 * `v1 = hex(HMAC-SHA256(key = secret as UTF-8, message = "<t>.<raw body>"))`, one `v1` per active secret.
 */
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';
export const DEFAULT_WEBHOOK_TOLERANCE_SECONDS = 300;

export function signWebhookPayload(rawBody: string | Buffer, secrets: string[], timestamp: number): string {
  const t = Math.floor(timestamp);
  const payload = `${t}.${Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody}`;
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, payload)}`)].join(',');
}

export type WebhookVerifyFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'timestamp_out_of_tolerance'
  | 'signature_mismatch';

export type WebhookVerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: WebhookVerifyFailure; message: string };

export interface WebhookVerifyOptions {
  secrets: string[];
  nowSeconds: number;
  toleranceSeconds?: number;
}

/**
 * Verifies the raw body (never re-serialised JSON: `136.0` would become `136`). Any matching `v1` passes
 * (rotation); comparison is constant time; the timestamp must be within the tolerance either way.
 */
export function verifyWebhookSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  opts: WebhookVerifyOptions,
): WebhookVerifyResult {
  if (!header)
    return { ok: false, reason: 'missing_header', message: 'The Webhook-Signature header is missing.' };
  let t: number | undefined;
  const sigs: string[] = [];
  for (const part of header.split(',')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (k === 't' && /^\d{1,12}$/.test(v)) t = Number(v);
    else if (k === 'v1') sigs.push(v.toLowerCase());
  }
  if (t === undefined || sigs.length === 0) {
    return {
      ok: false,
      reason: 'malformed_header',
      message: 'Webhook-Signature needs t=<unix> and at least one v1=<hex>.',
    };
  }
  const tolerance = opts.toleranceSeconds ?? DEFAULT_WEBHOOK_TOLERANCE_SECONDS;
  const payload = `${t}.${Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody}`;
  let matched = false;
  for (const secret of opts.secrets) {
    const expected = hmacHex(secret, payload);
    for (const sig of sigs) if (safeEqualHex(expected, sig)) matched = true;
  }
  if (!matched)
    return { ok: false, reason: 'signature_mismatch', message: 'No v1 signature matches an active secret.' };
  if (Math.abs(opts.nowSeconds - t) > tolerance) {
    return {
      ok: false,
      reason: 'timestamp_out_of_tolerance',
      message: `The signature timestamp is more than ${tolerance} s away.`,
    };
  }
  return { ok: true, timestamp: t };
}
