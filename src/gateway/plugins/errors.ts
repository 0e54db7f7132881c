import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  type CareBridgeError,
  errors,
  isCareBridgeError,
  normalizeError,
  PROBLEM_CONTENT_TYPE,
  toProblem,
} from '../../kernel/errors/index.js';
import type { App } from '../types.js';

/**
 * How a route answers a request its schema refuses (route `config.validation`): with its integration's
 * documented code (PAYMENTS_INVALID_REQUEST, NOTIFICATIONS_INVALID_MESSAGE, …) instead of VALIDATION_FAILED,
 * and, for a field that deserves one (a list cursor), a code of its own.
 */
export interface ValidationAnswer {
  error: ErrorFactory;
  integration?: string;
  /** By field, e.g. `querystring.cursor`: a more specific code than `error`. */
  fields?: Record<string, ErrorFactory>;
}
type ErrorFactory = (
  message: string,
  extra?: { details?: Record<string, unknown>; integration?: string },
) => CareBridgeError;

declare module 'fastify' {
  interface FastifyContextConfig {
    validation?: ValidationAnswer;
  }
}

/** A zod issue as fastify-type-provider-zod hands it over (its own fields under `params`), or nested. */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: Issue[][];
}
interface Located {
  field: string;
  message: string;
}

/**
 * What a schema failure is about, each with the field it names: `body.amount`; an unknown key by its own
 * name (`body.bogus`, not `body.`); `body` itself when there is none or it is not an object. A failed union
 * (one notification or `{items}`) is explained by the branch the request fits.
 */
function locate(where: string, value: unknown, validation: FastifyError['validation']): Located[] {
  return (validation ?? []).flatMap((v) =>
    explain(where, v.instancePath.split('/').filter(Boolean), value, {
      ...(v.params as Partial<Issue>),
      code: v.keyword,
      path: [],
      message: v.message ?? 'invalid value',
    }),
  );
}

function explain(where: string, at: string[], value: unknown, issue: Issue): Located[] {
  const path = [...at, ...issue.path.map(String)];
  const field = [where, ...path].join('.');
  if (issue.code === 'unrecognized_keys' && issue.keys?.length)
    return issue.keys.map((k) => ({ field: `${field}.${k}`, message: 'unknown field' }));
  if (issue.code === 'invalid_union' && issue.errors?.length) {
    const branch = likeliestBranch(issue.errors);
    if (branch?.length) return branch.flatMap((i) => explain(where, path, value, i));
  }
  if (path.length === 0 && (value === null || typeof value !== 'object')) {
    const got = value === undefined ? 'none' : value === null ? 'null' : `a ${typeof value}`;
    return [{ field, message: `expected a JSON object, got ${got}` }];
  }
  if (path.length === 0 && Array.isArray(value))
    return [{ field, message: 'expected a JSON object, got an array' }];
  return [{ field, message: issue.message }];
}

/** The branch whose keys the request fits; when every branch refuses a key as unknown, those keys. */
function likeliestBranch(branches: Issue[][]): Issue[] | undefined {
  const unknownKey = (i: Issue) => i.code === 'unrecognized_keys' && i.path.length === 0;
  return branches.find((b) => !b.some(unknownKey)) ?? branches[0]?.filter(unknownKey);
}

const REQUEST_PART = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' } as const;

/** Fastify's own failures, mapped to our stable codes. */
function fromFastify(err: FastifyError, request?: FastifyRequest): unknown {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err.validationContext ?? 'body') as keyof typeof REQUEST_PART;
    const value = request?.[REQUEST_PART[where] ?? 'body'];
    const located = locate(where, value, err.validation);
    const first = located[0] ?? { field: where, message: 'invalid value' };
    const answer = request?.routeOptions.config.validation;
    const make = answer?.fields?.[first.field] ?? answer?.error ?? errors.validation;
    return make(`${first.field}: ${first.message}`, {
      details: { field: first.field, errors: located },
      ...(answer?.integration ? { integration: answer.integration } : {}),
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
    sendProblem(request, reply, isCareBridgeError(err) ? err : fromFastify(err, request));
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
