import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  errors,
  isCareBridgeError,
  normalizeError,
  PROBLEM_CONTENT_TYPE,
  toProblem,
} from '../../kernel/errors/index.js';
import type { App } from '../types.js';

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

/**
 * The one place an error becomes an answer: problem+json with the request id in both the body and
 * `X-Request-Id`, whichever hook or handler failed (access control runs before any other hook could set it).
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const e = normalizeError(err);
  if (e.httpStatus >= 500) {
    // The error itself, not its cause: the serializer writes the code and then the whole cause chain.
    request.log.error({ err: e, code: e.code, integration: e.integration }, 'request failed');
  } else {
    request.log.info({ code: e.code }, 'request rejected');
  }
  reply.header('X-Request-Id', request.id);
  if (e.retryAfterSeconds !== undefined) reply.header('Retry-After', String(Math.ceil(e.retryAfterSeconds)));
  if (e.headers) reply.headers(e.headers);
  if (e.httpStatus === 413) reply.header('Connection', 'close');
  return reply.status(e.httpStatus).type(PROBLEM_CONTENT_TYPE).send(toProblem(e, request.id));
}

/**
 * Failures Fastify answers before a route is chosen (`frameworkErrors`): a path that is not valid
 * percent-encoding, a path segment over the router's limit.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? errors.uriTooLong('A path segment is longer than 200 characters.')
      : err.code === 'FST_ERR_BAD_URL'
        ? errors.badUrl('The path is not valid percent-encoded UTF-8.')
        : fromFastify(err);
  sendProblem(request, reply, mapped);
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (raw non-ASCII bytes, a request line and
 * headers over 16 KiB, a client too slow to send its request) still get a problem with a request id, written
 * straight to the socket since no request object exists.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? errors.headersTooLarge('The request line and headers exceed 16 KiB.')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? errors.requestTimeout('The request was not received in time.')
        : errors.badUrl('The request could not be parsed (check the request line and headers).');
  const id = randomUUID();
  const body = JSON.stringify(toProblem(e, id));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.httpStatus} ${STATUS_CODES[e.httpStatus]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Every error answer is problem+json; no stack trace or upstream body leaves the process. */
export function installErrorHandling(app: App, routePatterns: Map<string, Set<string>>): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    sendProblem(request, reply, isCareBridgeError(err) ? err : fromFastify(err));
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allowed = new Set<string>();
    for (const [pattern, methods] of routePatterns) {
      if (new RegExp(pattern).test(path)) for (const m of methods) allowed.add(m);
    }
    if (allowed.size > 0 && !allowed.has(request.method)) {
      const list = [...allowed].sort().join(', ');
      reply.header('Allow', list);
      sendProblem(
        request,
        reply,
        errors.methodNotAllowed(`${request.method} is not allowed here; use ${list}.`),
      );
      return;
    }
    sendProblem(request, reply, errors.routeNotFound(`No route ${request.method} ${path.slice(0, 200)}.`));
  });
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
