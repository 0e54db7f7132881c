export { JwksCache, type JwksCacheOptions } from './jwks-cache.js';
export {
  type PermissionDecider,
  TokenAuthenticator,
  type TokenAuthenticatorOptions,
} from './token-authenticator.js';
