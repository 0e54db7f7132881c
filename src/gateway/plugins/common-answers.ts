import type { RouteOptions } from 'fastify';
import { problemResponse } from '../schemas/problem.js';
import type { App, RouteAccess } from '../types.js';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Documents, on every route of the OpenAPI document, the answers the gateway's own hooks can give whatever
 * the route does: 401/403/429 from access control, 413/415 for a body. A route that documents a status
 * itself keeps its own entry.
 */
export function documentCommonAnswers(app: App): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.schema || route.schema.hide) return;
    const cfg = (route.config ?? {}) as RouteAccess;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const common: Record<number, ReturnType<typeof problemResponse>> = {};
    if (cfg.permission) {
      common[401] = problemResponse('UNAUTHENTICATED (missing, expired or invalid bearer token)');
      common[403] = problemResponse(`FORBIDDEN (the caller lacks ${cfg.permission})`);
      common[429] = problemResponse('RATE_LIMITED (Retry-After)');
    }
    if (methods.some((m) => WITH_BODY.has(m))) {
      common[413] = problemResponse('PAYLOAD_TOO_LARGE');
      common[415] = problemResponse('UNSUPPORTED_MEDIA_TYPE');
    }
    if (Object.keys(common).length === 0) return;
    const own = (route.schema.response ?? {}) as Record<string, unknown>;
    route.schema.response = { ...common, ...own };
  });
}
