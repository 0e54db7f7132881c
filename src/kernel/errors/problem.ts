import { CareBridgeError, isCareBridgeError } from './carebridge-error.js';
import { errors } from './catalog.js';

/** RFC 9457 problem details as CareBridge answers them. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemType(code: string): string {
  return `https://carebridge.dev/errors#${code.toLowerCase()}`;
}

/**
 * The single boundary function: any thrown value becomes a CareBridgeError. Unknown throwables become
 * INTERNAL with a fixed message, so neither a stack trace nor an upstream body can reach a caller.
 */
export function normalizeError(err: unknown): CareBridgeError {
  if (isCareBridgeError(err)) return err;
  return errors.internal('An unexpected error occurred.', { cause: err });
}

export function toProblem(err: unknown, requestId: string): Problem {
  const e = normalizeError(err);
  const problem: Problem = {
    type: problemType(e.code),
    title: TITLES[e.httpStatus] ?? 'Error',
    status: e.httpStatus,
    detail: e.httpStatus >= 500 && e.code === 'INTERNAL' ? 'An unexpected error occurred.' : e.message,
    code: e.code,
    requestId,
  };
  if (e.integration) problem.integration = e.integration;
  if (e.retryable) problem.retryable = true;
  if (e.details) Object.assign(problem, { ...e.details, ...problem });
  return problem;
}

export { CareBridgeError };
