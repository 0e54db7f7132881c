export { buildApp, type BuiltApp } from './app.js';
export type { App, Authenticator, GatewayDeps, Principal, RouteAccess, RouteModule } from './types.js';
export { CURRENT_API_VERSION, API_VERSIONS } from './plugins/versioning.js';
