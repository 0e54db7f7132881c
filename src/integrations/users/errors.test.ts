import { Writable } from 'node:stream';
import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../kernel/telemetry/index.js';
import { ERROR_REASON_METADATA, RETRY_AFTER_METADATA } from '../../protocols/proto/index.js';
import { toCareBridgeError } from './errors.js';

/** A ServiceError as grpc-js raises it: the status fields and the trailers (Metadata) on an Error. */
function serviceError(code: status, details: string, trailers: Record<string, string> = {}): ServiceError {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_METADATA, 'SOME_REASON');
  for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

describe('users errors in the logs', () => {
  it('logs a mapped gRPC failure with its code, message and the gRPC status as its cause', () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(JSON.parse(String(chunk)));
          cb();
        },
      }),
    });
    const cause = serviceError(status.UNAVAILABLE, 'No connection established');
    logger.error({ err: toCareBridgeError(cause, 'CheckPermission') }, 'request failed');
    logger.error({ err: cause }, 'the gRPC error alone');

    expect(lines[0]!.err).toMatchObject({
      type: 'CareBridgeError',
      code: 'USERS_SERVICE_UNAVAILABLE',
      message: 'The user service is unreachable.',
      integration: 'users',
      details: { operation: 'CheckPermission' },
      cause: {
        type: 'Error',
        code: status.UNAVAILABLE,
        message: '14 UNAVAILABLE: No connection established',
      },
    });
    expect(lines[1]!.err).toMatchObject({ code: status.UNAVAILABLE });
    expect(JSON.stringify(lines)).not.toMatch(/unable to serialize|SOME_REASON/);
  });
});

describe('an overloaded user service', () => {
  it('is USERS_SIGN_IN_BUSY for a sign-in and USERS_SERVICE_UNAVAILABLE for the other calls', () => {
    const busy = serviceError(status.RESOURCE_EXHAUSTED, 'too many sign-ins in progress', {
      [RETRY_AFTER_METADATA]: '2',
    });
    expect(toCareBridgeError(busy, 'AuthenticateUser')).toMatchObject({
      code: 'USERS_SIGN_IN_BUSY',
      httpStatus: 503,
      retryable: true,
      retryAfterSeconds: 2,
    });
    expect(toCareBridgeError(busy, 'CheckPermission')).toMatchObject({
      code: 'USERS_SERVICE_UNAVAILABLE',
      retryAfterSeconds: 2,
    });
  });
});
