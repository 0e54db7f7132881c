import type { onRequestHookHandler, RouteOptions } from 'fastify';
import { errors } from '../../kernel/errors/index.js';
import { problemResponse } from '../schemas/problem.js';
import type { App, GatewayDeps, RouteAccess } from '../types.js';

const flagsOf = (cfg: RouteAccess | undefined): string[] => [cfg?.flag ?? []].flat();

/**
 * Feature flags on routes, installed in each route module's own context: a route answers only while every flag
 * it names is on — the module's kill switch (`RouteModule.flag`) and its own (`config.flag`, e.g. a notification
 * channel). Off, it answers 503 FEATURE_DISABLED naming the flag. The check is a route-level onRequest hook, so it
 * runs after access control (a caller without a token learns nothing, not even that a feature is off) and only
 * flagged routes pay for it. Flags are read per request through OpenFeature, so a reload applies at once. A
 * flag no area declares stops start-up, like an unknown setting.
 */
export function installFeatureGate(app: App, deps: GatewayDeps, moduleFlag: string | undefined): void {
  if (moduleFlag) deps.flags.assertKnown(moduleFlag);
  app.addHook('onRoute', (route: RouteOptions) => {
    const cfg = (route.config ?? {}) as RouteAccess;
    const flags = [...new Set([...(moduleFlag ? [moduleFlag] : []), ...flagsOf(cfg)])];
    if (flags.length === 0) return;
    for (const f of flags) deps.flags.assertKnown(f);
    route.config = { ...cfg, flag: flags };
    const gate: onRequestHookHandler = async () => {
      for (const f of flags) {
        if (!(await deps.flags.isEnabled(f))) {
          throw errors.featureDisabled(
            `This feature is switched off (feature flag ${f}); it answers again once an operator turns the flag back on.`,
            { details: { flag: f } },
          );
        }
      }
    };
    route.onRequest = [...[route.onRequest ?? []].flat(), gate];
    if (route.schema && !route.schema.hide) {
      const named = flags.map((f) => `\`${f}\``).join(' and ');
      const desc = route.schema.description ? `${route.schema.description}\n\n` : '';
      route.schema.description = `${desc}503 \`FEATURE_DISABLED\` while the feature flag ${named} is off.`;
      const own = (route.schema.response ?? {}) as Record<string, unknown>;
      route.schema.response = { 503: problemResponse(`FEATURE_DISABLED (${flags.join(', ')} off)`), ...own };
    }
  });
}
