import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/kernel/telemetry/index.js';

/** A real pino logger whose lines are kept, parsed, for assertions (`lines`, or `warnings()` only). */
export function captureLogs(level: 'info' | 'warn' | 'debug' = 'info'): {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  warnings(): Array<Record<string, unknown>>;
} {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return {
    logger: createLogger({ level, destination }),
    lines,
    warnings: () => lines.filter((l) => l.level === 'warn'),
  };
}
