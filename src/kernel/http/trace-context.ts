import { randomFillSync } from 'node:crypto';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): each outbound attempt is a new span of the
 * caller's trace. Keeps the trace id (and sampled flag) of an incoming `traceparent`; starts a new trace
 * when there is none or it is malformed (all-zero ids are invalid per the spec).
 */
export function childTraceparent(incoming?: string): string {
  const m = incoming ? TRACEPARENT.exec(incoming.trim().toLowerCase()) : null;
  if (m && !ALL_ZERO.test(m[1] as string)) return `00-${m[1]}-${spanId()}-${m[3]}`;
  // A new trace: 24 random bytes at once, the first 16 the trace id, the last 8 the span id.
  const hex = randomHex(24);
  return `00-${hex.slice(0, 32)}-${spanIdOf(hex.slice(32))}-${m ? m[3] : '01'}`;
}

export function traceIdOf(traceparent: string): string | undefined {
  return TRACEPARENT.exec(traceparent)?.[1];
}

const ALL_ZERO = /^0+$/;

/** A span id, never all zeros (invalid per the spec; 1 in 2^64, but cheap to rule out). */
function spanId(): string {
  return spanIdOf(randomHex(8));
}

function spanIdOf(hex: string): string {
  return hex === '0000000000000000' ? '0000000000000001' : hex;
}

/**
 * Random hex from a pool refilled 4 KiB at a time: one randomFillSync per ~170 traceparents instead of a
 * randomUUID (plus slicing) per attempt, which was a visible share of HttpClient's cost in bench/http.ts.
 */
const POOL = Buffer.alloc(4096);
let poolOffset = POOL.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const hex = POOL.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}
