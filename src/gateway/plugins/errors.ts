import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  errors,
  isCareBridgeError,
  normalizeError,
  PROBLEM_CONTENT_TYPE,
  toProblem,
} from '../../kernel/errors/index.js';
import type { App, GatewayDeps } from '../types.js';

/** Fastify's own failures, mapped to our stable codes. */
function fromFastify(err: FastifyError): unknown {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const first = err.validation[0];
    const where = err.validationContext ?? 'body';
    const field = `${where}${first?.instancePath.replaceAll('/', '.') ?? ''}`;
    const fields = err.validation.map((v) => ({
      field: `${where}${v.instancePath.replaceAll('/', '.')}`,
      message: v.message,
    }));
    return errors.validation(`${field}: ${first?.message ?? 'invalid value'}`, {
      details: { field, errors: fields },
    });
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge('The request body is larger than this server accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType('Send the body as application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.badRequest('The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.badRequest('Content-Length does not match the body.');
    case 'FST_ERR_VALIDATION':
      return errors.validation(err.message);
  }
  if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON/i.test(err.message))) {
    return errors.badRequest('The body is not valid JSON.');
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return errors.badRequest(err.message);
  }
  return err;
}

/** Every error answer is problem+json; no stack trace or upstream body leaves the process. */
export function installErrorHandling(
  app: App,
  deps: GatewayDeps,
  routePatterns: Map<string, Set<string>>,
): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const mapped = isCareBridgeError(err) ? err : fromFastify(err);
    const e = normalizeError(mapped);
    if (e.httpStatus >= 500) {
      // The error itself, not its cause: the serializer writes the code and then the whole cause chain.
      request.log.error({ err: e, code: e.code, integration: e.integration }, 'request failed');
    } else {
      request.log.info({ code: e.code }, 'request rejected');
    }
    if (e.retryAfterSeconds !== undefined)
      reply.header('Retry-After', String(Math.ceil(e.retryAfterSeconds)));
    if (e.headers) reply.headers(e.headers);
    if (e.httpStatus === 413) reply.header('Connection', 'close');
    reply.status(e.httpStatus).type(PROBLEM_CONTENT_TYPE).send(toProblem(e, request.id));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = new Set<string>();
    for (const [pattern, methods] of routePatterns) {
      if (new RegExp(pattern).test(path)) for (const m of methods) allowed.add(m);
    }
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const e = errors.methodNotAllowed(
        `${request.method} is not allowed here; use ${[...allowed].sort().join(', ')}.`,
      );
      reply.header('Allow', [...allowed].sort().join(', '));
      reply.status(405).type(PROBLEM_CONTENT_TYPE).send(toProblem(e, request.id));
      return;
    }
    const e = errors.routeNotFound(`No route ${request.method} ${path}.`);
    reply.status(404).type(PROBLEM_CONTENT_TYPE).send(toProblem(e, request.id));
  });
  void deps;
}

/** `/v1/payments/:id/refunds` → `^/v1/payments/[^/]+/refunds/?$`, for the 405 check. */
export function routeRegex(url: string): string {
  const body = url
    .split('/')
    .map((seg) =>
      seg.startsWith(':') ? '[^/]+' : seg === '*' ? '.*' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return `^${body.replace(/\/$/, '')}/?$`;
}
