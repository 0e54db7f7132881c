export {
  type CanonicalParts,
  canonicalPath,
  canonicalQuery,
  canonicalString,
  queryPairs,
  sha256Hex,
} from './canonical.js';
export {
  HEADERS as V1_HEADERS,
  hmacHex,
  type SignableRequest,
  signV1,
  V1RequestSigner,
  type V1SignerOptions,
} from './request-signer.js';
export {
  DEFAULT_TOLERANCE_SECONDS,
  MemoryNonceStore,
  type NonceStore,
  parseSignatureHeader,
  safeEqualHex,
  type V1FailureCode,
  type V1VerifyInput,
  type V1VerifyOptions,
  type V1VerifyResult,
  verifyV1Request,
} from './request-verifier.js';
export {
  DEFAULT_WEBHOOK_TOLERANCE_SECONDS,
  signWebhookPayload,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookVerifyFailure,
  type WebhookVerifyOptions,
  type WebhookVerifyResult,
} from './webhook-signature.js';
