import { randomBytes } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): each outbound attempt is a new span of the
 * caller's trace. Keeps the trace id (and sampled flag) of an incoming `traceparent`; starts a new trace
 * when there is none or it is malformed (all-zero ids are invalid per the spec).
 */
export function childTraceparent(incoming?: string): string {
  const m = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  const traceId = m && !/^0+$/.test(m[1] as string) ? (m[1] as string) : randomBytes(16).toString('hex');
  const flags = m ? (m[3] as string) : '01';
  return `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
}

export function traceIdOf(traceparent: string): string | undefined {
  return TRACEPARENT.exec(traceparent)?.[1];
}
