import pino, { type DestinationStream, type Logger } from 'pino';
import { serializeError } from './error-serializer.js';
import { type PrettyOptions, prettyDestination } from './pretty.js';
import { censor, redactPaths } from './redaction.js';

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
      redact: { paths: redactPaths(), censor },
      base: { service: 'carebridge' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    opts.pretty ? prettyDestination(opts.destination ?? process.stdout, opts.pretty) : opts.destination,
  );
}
