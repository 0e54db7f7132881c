import type { RouteOptions } from 'fastify';
import { errors } from '../../kernel/errors/index.js';
import type { App, GatewayDeps } from '../types.js';

/** The permission table: every /v1 route's method, URL and required permission (shown in OpenAPI). */
export type PermissionTable = Array<{ method: string; url: string; permission: string | null }>;

/**
 * Closed by default: a /v1 route must declare `config.permission` (or `config.public`), or the app
 * refuses to start. Each request is authenticated and authorized before its handler runs.
 */
export function installAccessControl(app: App, deps: GatewayDeps, table: PermissionTable): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.url.startsWith('/v1')) return;
    const cfg = (route.config ?? {}) as { permission?: string; public?: boolean };
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    if (!cfg.public && !cfg.permission) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} declares neither config.permission nor config.public`,
      );
    }
    if (cfg.permission && !/^[a-z*][a-z0-9_-]*:[a-z*][a-z0-9_-]*$/.test(cfg.permission)) {
      throw new Error(`route ${route.url}: permission "${cfg.permission}" is not resource:action`);
    }
    for (const m of methods)
      table.push({ method: m, url: route.url, permission: cfg.public ? null : (cfg.permission ?? null) });
    if (route.schema && cfg.permission) {
      const desc = route.schema.description ? `${route.schema.description}\n\n` : '';
      route.schema.description = `${desc}Requires permission \`${cfg.permission}\`.`;
      (route.schema as Record<string, unknown>).security = [{ bearerAuth: [] }];
    }
  });

  app.addHook('preHandler', async (request) => {
    const cfg = request.routeOptions.config as { permission?: string; public?: boolean } | undefined;
    if (!request.url.startsWith('/v1') || !cfg || cfg.public || !cfg.permission) return;
    if (!deps.authenticator) {
      throw errors.unauthenticated('No identity provider is configured; /v1 is closed.', {
        headers: { 'WWW-Authenticate': 'Bearer realm="carebridge"' },
      });
    }
    const principal = await deps.authenticator.authenticate(request);
    request.principal = principal;
    const allowed = await deps.authenticator.authorize(principal, cfg.permission, request).catch(() => false);
    if (!allowed)
      throw errors.forbidden(`This action requires the permission ${cfg.permission}.`, {
        details: { permission: cfg.permission },
      });
  });
}
