import type { RouteOptions } from 'fastify';
import { errors, isCareBridgeError } from '../../kernel/errors/index.js';
import type { App, GatewayDeps, RouteAccess } from '../types.js';
import { enforcePrincipalRateLimit } from './principal-rate-limit.js';

/** The permission table: every /v1 route's method, URL and required permission (shown in OpenAPI). */
export type PermissionTable = Array<{ method: string; url: string; permission: string | null }>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Every /v1 route and the permission it needs (the access-matrix test enumerates it). */
    permissionTable: PermissionTable;
  }
}

/** Routes a plugin registers that cannot carry our config: the API explorer's pages and assets. */
const EXPLORER_PREFIX = '/docs';

/**
 * Closed by construction: every route must declare `config.permission` or `config.public`, or the app
 * refuses to start. Each request is authenticated and authorized in `onRequest` from the route the router
 * matched (its registered URL and config), never from the raw URL: `/v%31/payments` is routed to
 * `/v1/payments` and so needs that route's permission. Access is decided before the body is parsed or
 * validated, so a caller without a token learns nothing about a route's schema.
 */
export function installAccessControl(app: App, deps: GatewayDeps, table: PermissionTable): void {
  app.decorate('permissionTable', table);
  const limiter = deps.limiters.keyed('principal', { perMinute: deps.config.principalRateLimitPerMinute });

  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.url === EXPLORER_PREFIX || route.url.startsWith(`${EXPLORER_PREFIX}/`)) {
      route.config = { ...(route.config ?? {}), public: true };
      return;
    }
    const cfg = (route.config ?? {}) as RouteAccess;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    if (!cfg.public && !cfg.permission) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares neither config.permission nor config.public`,
      );
    }
    if (cfg.permission && !/^[a-z*][a-z0-9_-]*:[a-z*][a-z0-9_-]*$/.test(cfg.permission)) {
      throw new Error(`route ${route.url}: permission "${cfg.permission}" is not resource:action`);
    }
    if (!route.url.startsWith('/v1/')) return;
    for (const m of methods)
      table.push({ method: m, url: route.url, permission: cfg.public ? null : (cfg.permission ?? null) });
    if (route.schema && cfg.permission) {
      const desc = route.schema.description ? `${route.schema.description}\n\n` : '';
      route.schema.description = `${desc}Requires permission \`${cfg.permission}\`.`;
      (route.schema as Record<string, unknown>).security = [{ bearerAuth: [] }];
    }
  });

  app.addHook('onRequest', async (request, reply) => {
    // No route matched: the not-found handler answers 404/405 and touches nothing.
    if (request.is404) return;
    const cfg = request.routeOptions.config as RouteAccess;
    if (cfg.public) return;
    if (!cfg.permission) {
      // Unreachable while onRoute refuses such routes; kept so a future bypass fails closed.
      throw errors.forbidden('This route declares no permission; it is closed.');
    }
    if (!deps.authenticator) {
      throw errors.unauthenticated('No identity provider is configured; /v1 is closed.', {
        headers: { 'WWW-Authenticate': 'Bearer realm="carebridge"' },
      });
    }
    const principal = await deps.authenticator.authenticate(request);
    request.principal = principal;
    await enforcePrincipalRateLimit(limiter, request, reply);
    let allowed: boolean;
    try {
      allowed = await deps.authenticator.authorize(principal, cfg.permission, request);
    } catch (err) {
      // Fail closed. A retryable failure (identity service unreachable beyond the cache) is still a
      // deny, but answered as 503 with Retry-After so callers retry instead of giving up.
      if (isCareBridgeError(err) && err.retryable) {
        throw errors.dependencyDown('Permissions cannot be checked right now; the request was denied.', {
          retryAfterSeconds: 1,
          cause: err,
        });
      }
      allowed = false;
    }
    if (!allowed)
      throw errors.forbidden(`This action requires the permission ${cfg.permission}.`, {
        details: { permission: cfg.permission },
      });
  });
}
