export type { UsersTlsOptions } from './channel.js';
export { toCareBridgeError, usersErrors } from './errors.js';
export { PermissionCache, type PermissionCacheOptions } from './permission-cache.js';
export { type ServiceAccountCredentials, ServiceAccountSigner } from './service-account-signer.js';
export { usersSettings } from './settings.js';
export {
  type AuthenticatedUser,
  type BatchResult,
  type PermissionCheck,
  type SignInOptions,
  UserServiceIntegration,
  type UserServiceIntegrationOptions,
} from './user-service-integration.js';
