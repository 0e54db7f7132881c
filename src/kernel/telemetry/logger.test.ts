import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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

  it('keeps child bindings such as the request id', () => {
    const { lines, logger } = capture();
    logger.child({ requestId: 'req-1' }).warn({ email: 'b@example.test' }, 'x');
    expect(lines[0]).toMatchObject({ requestId: 'req-1', email: '[REDACTED]' });
  });
});
