export { type BuiltApp, buildApp } from './app.js';
export { API_VERSIONS, CURRENT_API_VERSION } from './plugins/versioning.js';
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
