import { z } from 'zod';
import type { App, GatewayDeps } from '../types.js';

const checkSchema = z.object({
  status: z.enum(['up', 'down', 'degraded']),
  target: z.string(),
  detail: z.string(),
  required: z.boolean(),
});

/** Liveness, readiness and metrics: unauthenticated, outside /v1, for probes and scrapers. */
export function registerSystemRoutes(app: App, deps: GatewayDeps): void {
  app.get(
    '/health/live',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Liveness: the process is running',
        response: { 200: z.object({ status: z.literal('up') }) },
      },
    },
    async () => ({ status: 'up' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { public: true },
      schema: {
        tags: ['system'],
        summary: 'Readiness: every required dependency is usable',
        description:
          '503 when a required dependency is down; `degraded` when an optional one is not up or a breaker is open.',
        response: {
          200: z.object({ status: z.enum(['up', 'degraded']), checks: z.record(z.string(), checkSchema) }),
          503: z.object({ status: z.literal('down'), checks: z.record(z.string(), checkSchema) }),
        },
      },
    },
    async (_request, reply) => {
      const report = await deps.health.report();
      reply.header('Cache-Control', 'no-store');
      if (report.status === 'down') return reply.status(503).send(report as never);
      return report as never;
    },
  );

  app.get(
    '/metrics',
    { config: { public: true }, schema: { tags: ['system'], summary: 'Prometheus metrics', hide: false } },
    async (_request, reply) => {
      reply.type(deps.metrics.contentType);
      return deps.metrics.text();
    },
  );
}
