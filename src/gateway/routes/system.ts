import { z } from 'zod';
import type { ReadinessReport } from '../../kernel/telemetry/index.js';
import type { App, FastifyRequest, GatewayDeps } from '../types.js';

const checkSchema = z.object({
  status: z.enum(['up', 'down', 'degraded']),
  target: z.string().optional().describe('Shown in production only to the admin and ops roles.'),
  detail: z.string().optional().describe('Shown in production only to the admin and ops roles.'),
  required: z.boolean(),
});

/** Roles that may see dependency addresses and failure details in production readiness. */
const OPERATOR_ROLES = new Set(['admin', 'ops']);

/**
 * Addresses and failure details help an attacker map the deployment, so production shows them only to an
 * operator's bearer token; development and test show them to everyone (the first hour needs them).
 */
async function showsDetails(request: FastifyRequest, deps: GatewayDeps): Promise<boolean> {
  if (deps.config.profile !== 'production') return true;
  if (!request.headers.authorization || !deps.authenticator) return false;
  try {
    const principal = await deps.authenticator.authenticate(request);
    return principal.roles.some((r) => OPERATOR_ROLES.has(r));
  } catch {
    return false;
  }
}

function withoutDetails(report: ReadinessReport): ReadinessReport {
  const checks: ReadinessReport['checks'] = {};
  for (const [name, c] of Object.entries(report.checks))
    checks[name] = { status: c.status, required: c.required };
  return { status: report.status, checks };
}

const readySchema = z.object({
  status: z.enum(['up', 'down', 'degraded']),
  checks: z.record(z.string(), checkSchema),
});

/**
 * The two JSON bodies of one report (with and without details), made once per report rather than once per
 * call: the report changes about once a second, probes may call many times a second. Same shape as the
 * response schema's serializer gives (it drops `latencyMs` and `pending`).
 */
class ReadyBodies {
  private report: ReadinessReport | undefined;
  private full = '';
  private bare = '';

  for(report: ReadinessReport, details: boolean): string {
    if (report !== this.report) {
      this.full = JSON.stringify(readySchema.parse(report));
      this.bare = JSON.stringify(readySchema.parse(withoutDetails(report)));
      this.report = report;
    }
    return details ? this.full : this.bare;
  }
}

/** Liveness, readiness and metrics: unauthenticated, outside /v1, for probes and scrapers. */
export function registerSystemRoutes(app: App, deps: GatewayDeps): void {
  const bodies = new ReadyBodies();
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
          '503 when a required dependency is down; `degraded` when an optional one is not up or a breaker is open. In the production profile each check shows only its status, unless the request carries a bearer token of the admin or ops role.',
        response: {
          200: z.object({ status: z.enum(['up', 'degraded']), checks: z.record(z.string(), checkSchema) }),
          503: z.object({ status: z.literal('down'), checks: z.record(z.string(), checkSchema) }),
        },
      },
    },
    async (request, reply) => {
      // The background-refreshed report: no dependency is called for this request (kernel/telemetry/health.ts).
      const report = await deps.health.current();
      const body = bodies.for(report, await showsDetails(request, deps));
      reply.header('Cache-Control', 'no-store').type('application/json; charset=utf-8');
      return reply.status(report.status === 'down' ? 503 : 200).send(body as never);
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
