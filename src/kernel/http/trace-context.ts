import { randomUUID } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): each outbound attempt is a new span of the
 * caller's trace. Keeps the trace id (and sampled flag) of an incoming `traceparent`; starts a new trace
 * when there is none or it is malformed (all-zero ids are invalid per the spec).
 */
export function childTraceparent(incoming?: string): string {
  const m = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  const traceId = m && !/^0+$/.test(m[1] as string) ? (m[1] as string) : randomHex32();
  const flags = m ? (m[3] as string) : '01';
  return `00-${traceId}-${randomHex32().slice(0, 16)}-${flags}`;
}

export function traceIdOf(traceparent: string): string | undefined {
  return TRACEPARENT.exec(traceparent)?.[1];
}

/** 32 random hex digits. randomUUID draws from a pre-filled entropy cache, far cheaper per call than randomBytes. */
function randomHex32(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
}
