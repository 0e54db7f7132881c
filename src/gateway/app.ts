import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { errors } from '../kernel/errors/index.js';
import { installAccessControl, type PermissionTable } from './plugins/access.js';
import { documentCommonAnswers } from './plugins/common-answers.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  installErrorHandling,
  routeRegex,
} from './plugins/errors.js';
import { installFeatureGate } from './plugins/feature-gate.js';
import { installHttpMetrics } from './plugins/http-metrics.js';
import { requestIdFrom } from './plugins/request-id.js';
import { CURRENT_API_VERSION, installVersioning } from './plugins/versioning.js';
import { registerSystemRoutes } from './routes/system.js';
import type { App, GatewayDeps } from './types.js';

export interface BuiltApp {
  app: App;
  /** Every /v1 route and the permission it needs (for docs and the access-matrix test). */
  permissions: PermissionTable;
}

/** Builds the Fastify app: system routes, /docs, /openapi.json and every route module under /v1. */
export async function buildApp(deps: GatewayDeps): Promise<BuiltApp> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.config.bodyLimitBytes,
    trustProxy: deps.config.trustProxy,
    genReqId: (req) => requestIdFrom(req.headers['x-request-id']),
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  }).withTypeProvider() as unknown as App;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The API speaks JSON only; other media types get 415 (webhook routes add their own raw-body parsers).
  app.removeContentTypeParser('text/plain');

  const routePatterns = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const pattern = routeRegex(route.url);
    const set = routePatterns.get(pattern) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) set.add(m);
    routePatterns.set(pattern, set);
  });

  // First hook: every answer carries its request id, whichever later hook fails (sendProblem sets it too).
  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  const permissions: PermissionTable = [];
  installErrorHandling(app, routePatterns);
  installHttpMetrics(app, deps);
  installVersioning(app);
  installAccessControl(app, deps, permissions);
  documentCommonAnswers(app);

  app.addHook('onRequest', async (request) => {
    // Refuse an oversized body before routing, so even an unknown /v1 path answers 413 without reading it.
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > deps.config.bodyLimitBytes) {
      throw errors.payloadTooLarge(`The request body is larger than ${deps.config.bodyLimitBytes} bytes.`);
    }
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      'request completed',
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'CareBridge gateway',
        version: CURRENT_API_VERSION,
        description:
          'The integration gateway of the CareBridge healthcare-commerce platform. Errors are RFC 9457 problem+json; codes are listed in docs/errors.md.',
      },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  registerSystemRoutes(app, deps);
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  for (const mod of deps.routes ?? []) {
    await app.register(
      async (scoped) => {
        installFeatureGate(scoped as App, deps, mod.flag);
        return mod.register(scoped as App, deps);
      },
      { prefix: mod.prefix ?? '/v1' },
    );
  }

  await app.ready();
  return { app, permissions };
}
