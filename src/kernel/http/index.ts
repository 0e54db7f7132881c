export { type ApiKeySignerOptions, apiKeySigner } from './auth/api-key.js';
export {
  type ClientAuthMethod,
  OAuth2ClientCredentials,
  type OAuth2ClientCredentialsOptions,
} from './auth/oauth2.js';
export { networkError, upstreamStatusError } from './errors.js';
export { HttpClient, type HttpClientOptions, type HttpClientTls, type HttpRequest } from './http-client.js';
export { childTraceparent, traceIdOf } from './trace-context.js';
export type { HttpResponse, RequestSigner, SignableRequest } from './types.js';
