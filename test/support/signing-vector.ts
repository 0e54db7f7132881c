import { type SignableRequest, V1RequestSigner } from '../../src/protocols/signing/index.js';

/**
 * The "v1" request-signing test vector, computed independently with coreutils/openssl (see
 * docs/integrations/payments.md, "Signing"), and a request signed with it.
 */
export const BODY = '{"amount":1250}';
export const BODY_SHA = '9fb40105c56271ac9d6a8da0a6f584dd901d66e4d55081684160a5bc608c7b08';
export const VECTOR_SIGNATURE = 'c8cb5cc897b0d7306ed742da92317da5228e3993cad00330958fe4f573ab104b';
export const NOW = 1767225600;

export function signed(
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
