import pino, { type DestinationStream, type Logger } from 'pino';
import { serializeError } from './error-serializer.js';
import { type PrettyOptions, prettyDestination } from './pretty.js';
import { redactLogObject } from './redaction.js';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go (tests pass a stream to read them back). Default stdout. */
  destination?: DestinationStream;
  /**
   * Readable lines instead of JSON (pretty.ts), written to `destination` or stdout: for a person at a terminal
   * (`carebridge start` in development); JSON stays the default everywhere else.
   */
  pretty?: PrettyOptions;
}

/**
 * JSON logs with secrets and PHI removed before they are written (`[REDACTED]`; an address keeps everything but its
 * credentials, see redaction.ts). An error under `err`
 * is written as its code, message and cause chain (error-serializer.ts).
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'carebridge',
      base: { service: 'carebridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Redaction in one walk per line (redaction.ts), on the logged object, the child bindings and the
      // serialized error, instead of pino's path-based `redact` (~130 µs a line with our key list).
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactLogObject(obj),
        bindings: (bindings) => redactLogObject(bindings),
      },
      serializers: { err: (err: unknown) => redactLogObject(serializeError(err), 1, ['err']) },
    },
    opts.pretty ? prettyDestination(opts.destination ?? process.stdout, opts.pretty) : opts.destination,
  );
}
