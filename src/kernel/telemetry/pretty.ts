import type { DestinationStream } from 'pino';
import type { SerializedError } from './error-serializer.js';

/** What the pretty lines are written to (process.stdout at a terminal; a collector in tests). */
export interface TextSink {
  write(text: string): unknown;
}

export interface PrettyOptions {
  /** ANSI colours for the level and dim keys (a terminal without NO_COLOR). Default false. */
  color?: boolean;
}

/** Fields every line has or that say nothing to a person at a terminal. */
const OMITTED = new Set(['level', 'time', 'msg', 'service', 'name', 'pid', 'hostname', 'err']);

const LEVEL_COLOUR: Record<string, string> = {
  trace: '90',
  debug: '90',
  info: '32',
  warn: '33',
  error: '31',
  fatal: '35',
};

function paint(on: boolean, code: string, text: string): string {
  return on ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function clock(iso: unknown): string {
  const d = typeof iso === 'string' || typeof iso === 'number' ? new Date(iso) : new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
}

/** `TypeError: message [CODE]`, then each cause, one per line; the stack only for error and fatal. */
function errorLines(err: SerializedError, withStack: boolean): string[] {
  const lines: string[] = [];
  let e: SerializedError | undefined = err;
  for (let depth = 0; e && typeof e === 'object'; depth++, e = e.cause) {
    const code = e.code !== undefined ? ` [${e.code}]` : '';
    lines.push(`    ${depth === 0 ? '' : 'caused by '}${e.type ?? 'Error'}: ${e.message}${code}`);
    if (depth === 0 && withStack && e.stack)
      lines.push(
        ...e.stack
          .split('\n')
          .slice(1)
          .map((l) => `      ${l.trim()}`),
      );
  }
  return lines;
}

/**
 * One pino JSON line as a person reads it: `14:07:21.522 INFO  payments sandbox listening  url=http://…`.
 * The line was redacted before pino serialized it, so nothing hidden in JSON shows up here.
 */
export function formatLogLine(line: string, opts: PrettyOptions = {}): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const color = opts.color === true;
  const level = typeof rec.level === 'string' ? rec.level : 'info';
  const fields = Object.entries(rec)
    .filter(([k, v]) => !OMITTED.has(k) && v !== undefined)
    .map(([k, v]) => `${paint(color, '2', `${k}=`)}${value(v)}`);
  const head = [
    paint(color, '2', clock(rec.time)),
    paint(color, LEVEL_COLOUR[level] ?? '0', level.toUpperCase().padEnd(5)),
    String(rec.msg ?? ''),
  ].join(' ');
  const out = [fields.length ? `${head}  ${fields.join(' ')}` : head];
  if (rec.err && typeof rec.err === 'object')
    out.push(...errorLines(rec.err as SerializedError, level === 'error' || level === 'fatal'));
  return `${out.join('\n')}\n`;
}

/** A pino destination that writes each line through `formatLogLine` (synchronously, like pino's own). */
export function prettyDestination(sink: TextSink, opts: PrettyOptions = {}): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line) sink.write(formatLogLine(line, opts));
    },
  };
}
