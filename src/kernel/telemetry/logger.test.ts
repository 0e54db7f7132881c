import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CareBridgeError } from '../errors/index.js';
import { createLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

describe('logger redaction', () => {
  it('removes credentials and PHI at any of the first four levels', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        headers: { authorization: 'Bearer eyJsecret', 'x-api-key': 'sk_test_123' },
        patient: {
          firstName: 'Testy',
          lastName: 'McTestface',
          dateOfBirth: '1970-01-01',
          memberId: 'M-000-TEST',
        },
        claim: {
          subscriber: {
            address: { line1: '1 Synthetic Way' },
            phone: '+15555550100',
            email: 'a@example.test',
          },
        },
        password: 'hunter2',
        amount: 1250,
      },
      'calling upstream',
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of [
      'eyJsecret',
      'sk_test_123',
      'Testy',
      'McTestface',
      '1970-01-01',
      'M-000-TEST',
      '+15555550100',
      'a@example.test',
      'hunter2',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      amount: 1250,
      msg: 'calling upstream',
      level: 'info',
      service: 'carebridge',
    });
    expect((lines[0]!.headers as Record<string, unknown>).authorization).toBe('[REDACTED]');
  });

  it('keeps addresses visible and masks only the credentials in them', () => {
    const { lines, logger } = capture();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '127.0.0.1',
      port: 5672,
    });
    logger.info({ address: '127.0.0.1:43210', tls: false }, 'user service sandbox listening');
    logger.info({ url: 'http://127.0.0.1:43210' }, 'payments sandbox listening');
    logger.warn({ target: 'amqp://guest:guest@rabbit.internal:5672/care', err: refused }, 'down');
    logger.info({
      peer: { address: '[::1]:50051' },
      db: { url: 'postgres://app:s3cret@db:5432/x?password=pw' },
    });
    expect(lines[0]).toMatchObject({ address: '127.0.0.1:43210' });
    expect(lines[1]).toMatchObject({ url: 'http://127.0.0.1:43210' });
    expect(lines[2]).toMatchObject({
      target: 'amqp://***@rabbit.internal:5672/care',
      err: { code: 'ECONNREFUSED', address: '127.0.0.1', port: 5672 },
    });
    expect(lines[3]).toMatchObject({
      peer: { address: '[::1]:50051' },
      db: { url: 'postgres://***@db:5432/x?password=***' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/guest|s3cret|=pw/);
  });

  it('still redacts a postal address, as text or as an object', () => {
    const { lines, logger } = capture();
    logger.info({ patient: { address: '1 Synthetic Way, Springfield' }, address: { line1: '2 Test Rd' } });
    expect(lines[0]).toMatchObject({ patient: { address: '[REDACTED]' }, address: '[REDACTED]' });
  });

  it('masks credentials in the message of a logged error', () => {
    const { lines, logger } = capture();
    logger.error({ err: new Error('cannot reach amqp://svc:hunter2@10.0.0.5:5672/') }, 'x');
    expect((lines[0]!.err as { message: string }).message).toBe('cannot reach amqp://***@10.0.0.5:5672/');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('leaves the logged object itself untouched, and redacts what an object serializes to', () => {
    const { lines, logger } = capture();
    const logged = { user: { email: 'c@example.test', id: 'usr_1' }, list: [{ phone: '+15555550101' }] };
    const withToJSON = { toJSON: () => ({ password: 'hunter3', kept: 1 }) };
    logger.info({ ...logged, withToJSON });
    expect(logged.user.email).toBe('c@example.test');
    expect(lines[0]).toMatchObject({
      user: { email: '[REDACTED]', id: 'usr_1' },
      list: [{ phone: '[REDACTED]' }],
      withToJSON: { password: '[REDACTED]', kept: 1 },
    });
  });

  it('keeps child bindings such as the request id', () => {
    const { lines, logger } = capture();
    logger.child({ requestId: 'req-1' }).warn({ email: 'b@example.test' }, 'x');
    expect(lines[0]).toMatchObject({ requestId: 'req-1', email: '[REDACTED]' });
  });
});

describe('logged errors', () => {
  /** Like gRPC's Metadata: state in a Map and a toJSON that needs it (pino's redaction clone breaks both). */
  class Trailers {
    private readonly entries = new Map<string, string>([['error-reason', 'X']]);
    toJSON() {
      return Object.fromEntries(this.entries);
    }
  }

  it('writes the code, message, integration and cause chain of an error whose cause carries an upstream object', () => {
    const { lines, logger } = capture();
    const upstream = Object.assign(new Error('4 DEADLINE_EXCEEDED: Deadline exceeded'), {
      code: 4,
      details: 'Deadline exceeded',
      metadata: new Trailers(),
    });
    const err = new CareBridgeError({
      code: 'USERS_SERVICE_TIMEOUT',
      message: 'The user service did not answer within the deadline.',
      httpStatus: 504,
      retryable: true,
      integration: 'users',
      cause: upstream,
      details: { operation: 'AuthenticateUser' },
    });
    logger.error({ err: upstream }, 'the cause alone');
    logger.error({ err }, 'the mapped error');
    expect(lines[0]!.err).toMatchObject({ type: 'Error', code: 4, message: upstream.message });
    expect(lines[1]!.err).toMatchObject({
      type: 'CareBridgeError',
      code: 'USERS_SERVICE_TIMEOUT',
      message: 'The user service did not answer within the deadline.',
      integration: 'users',
      httpStatus: 504,
      retryable: true,
      details: { operation: 'AuthenticateUser' },
      cause: { type: 'Error', code: 4, message: '4 DEADLINE_EXCEEDED: Deadline exceeded' },
    });
    // Never the upstream object itself.
    expect(JSON.stringify(lines)).not.toContain('error-reason');
  });

  it('survives circular causes and properties, and keeps only primitive fields of foreign errors', () => {
    const { lines, logger } = capture();
    const a = Object.assign(new Error('a'), { code: 'ECONNREFUSED', port: 5432, socket: {} as object });
    (a.socket as { owner?: unknown }).owner = a;
    const b = new Error('b', { cause: a });
    Object.assign(a, { cause: b });
    logger.warn({ err: b }, 'loop');
    expect(lines[0]!.err).toMatchObject({
      type: 'Error',
      message: 'b',
      cause: { message: 'a', code: 'ECONNREFUSED', port: 5432, cause: { type: 'Circular' } },
    });
    expect((lines[0]!.err as { cause: Record<string, unknown> }).cause.socket).toBeUndefined();
  });

  it('logs an error passed as the first argument the same way', () => {
    const { lines, logger } = capture();
    logger.error(new CareBridgeError({ code: 'INTERNAL', message: 'boom', cause: 'a string cause' }));
    expect(lines[0]!.err).toMatchObject({
      code: 'INTERNAL',
      message: 'boom',
      cause: { type: 'string', message: 'a string cause' },
    });
  });
});
