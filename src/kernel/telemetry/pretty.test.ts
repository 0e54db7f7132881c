import { describe, expect, it } from 'vitest';
import { CareBridgeError } from '../errors/index.js';
import { createLogger } from './logger.js';
import { formatLogLine } from './pretty.js';

function prettyLogger(level = 'info') {
  const out: string[] = [];
  const logger = createLogger({ level, pretty: {}, destination: { write: (s: string) => out.push(s) } });
  return { out, logger };
}

/** `14:07:21.522 ` → `<time> ` so lines compare whatever the clock says. */
const untimed = (s: string) => s.replace(/^\d\d:\d\d:\d\d\.\d{3} /gm, '<time> ');

describe('pretty log lines', () => {
  it('writes time, level, message and the fields as key=value, without the fields every line has', () => {
    const { out, logger } = prettyLogger();
    logger
      .child({ component: 'payments' })
      .info({ url: 'http://127.0.0.1:45951', ms: 12 }, 'sandbox listening');
    logger.warn({ reason: 'connection refused by 127.0.0.1:5672' }, 'rabbitmq unavailable');
    expect(out.map(untimed)).toEqual([
      '<time> INFO  sandbox listening  component=payments url=http://127.0.0.1:45951 ms=12\n',
      '<time> WARN  rabbitmq unavailable  reason="connection refused by 127.0.0.1:5672"\n',
    ]);
  });

  it('redacts exactly as the JSON lines do', () => {
    const { out, logger } = prettyLogger();
    logger.info({ headers: { authorization: 'Bearer eyJsecret' }, password: 'hunter2' }, 'calling');
    expect(out.join('')).not.toMatch(/eyJsecret|hunter2/);
    expect(out.join('')).toContain('[REDACTED]');
  });

  it('shows an error as its type, message, code and causes; the stack only at error level', () => {
    const { out, logger } = prettyLogger();
    const err = new CareBridgeError({
      code: 'DEPENDENCY_DOWN',
      message: 'store unavailable',
      httpStatus: 503,
      retryable: true,
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    });
    logger.warn({ err }, 'store check failed');
    expect(untimed(out[0]!)).toBe(
      '<time> WARN  store check failed\n' +
        '    CareBridgeError: store unavailable [DEPENDENCY_DOWN]\n' +
        '    caused by Error: connect ECONNREFUSED 127.0.0.1:5432 [ECONNREFUSED]\n',
    );
    logger.error({ err: new Error('boom') }, 'failed');
    expect(out[1]).toMatch(/ {4}Error: boom\n {6}at /);
  });

  it('colours the level only when asked, and passes a line that is not JSON through', () => {
    const line = JSON.stringify({ level: 'error', time: '2026-12-02T14:07:21.522Z', msg: 'x' });
    expect(formatLogLine(line, { color: true })).toContain('\x1b[31mERROR\x1b[0m');
    expect(formatLogLine(line)).not.toContain('\x1b[');
    expect(formatLogLine('plain text')).toBe('plain text\n');
  });
});
