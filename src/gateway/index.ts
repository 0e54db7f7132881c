export { type BuiltApp, buildApp } from './app.js';
export {
  JwksCache,
  type JwksCacheOptions,
  type PermissionDecider,
  TokenAuthenticator,
  type TokenAuthenticatorOptions,
} from './auth/index.js';
export { API_VERSIONS, CURRENT_API_VERSION } from './plugins/versioning.js';
export { authRoutes, type TokenIssuerPort } from './routes/auth.js';
export { notificationRoutes } from './routes/notifications.js';
export { paymentRoutes } from './routes/payments.js';
export { type UsersPort, usersRoutes } from './routes/users.js';
export { type GatewayConfig, gatewaySettings } from './settings.js';
export type {
  App,
  Authenticator,
  GatewayDeps,
  Principal,
  RouteAccess,
  RouteModule,
  Services,
} from './types.js';
export { paymentWebhookRoutes } from './webhooks/payments.js';
