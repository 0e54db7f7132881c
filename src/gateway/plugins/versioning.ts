import { errors } from '../../kernel/errors/index.js';
import type { App } from '../types.js';

/** Dated versions of the /v1 surface a caller may pin with `API-Version` (docs/operations.md). */
export const API_VERSIONS = ['2026-11-01'] as const;
export const CURRENT_API_VERSION = API_VERSIONS[API_VERSIONS.length - 1]!;

/**
 * `API-Version` on a request pins the dated behaviour inside /v1; every /v1 answer names the version it
 * used. "/v1" is judged on the route the router matched, never on the raw URL (`/v%31/…` is a /v1 route). Deprecated routes add `Deprecation` and `Sunset` (RFC 8594) so callers see the schedule early.
 */
export function installVersioning(app: App): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.url?.startsWith('/v1/')) return;
    const asked = request.headers['api-version'];
    if (asked !== undefined && !(API_VERSIONS as readonly string[]).includes(String(asked))) {
      throw errors.unsupportedApiVersion(
        `API-Version ${String(asked).slice(0, 20)} is not supported; use one of ${API_VERSIONS.join(', ')}.`,
      );
    }
    reply.header('API-Version', asked ?? CURRENT_API_VERSION);
    const dep = request.routeOptions.config?.deprecated;
    if (dep) {
      reply.header('Deprecation', 'true');
      reply.header('Sunset', new Date(dep.sunset).toUTCString());
      if (dep.link) reply.header('Link', `<${dep.link}>; rel="deprecation"`);
    }
  });
}
