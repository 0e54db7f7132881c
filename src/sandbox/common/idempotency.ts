import { createHash } from 'node:crypto';
import type { SandboxClock } from './clock.js';

/**
 * Stripe-style idempotency for simulators: the first request's answer (status + body, business errors and
 * 5xx included) is stored once execution began and replayed for the same key; the same key with other
 * parameters is refused; a key still executing answers 409. Kept 24 h on the sandbox clock.
 */
export interface StoredAnswer {
  status: number;
  body: unknown;
  requestId: string;
}

type Entry =
  | { state: 'in_flight'; fingerprint: string; expiresAtMs: number }
  | { state: 'completed'; fingerprint: string; expiresAtMs: number; answer: StoredAnswer };

export type Begin =
  | { kind: 'started'; complete: (answer: StoredAnswer) => void; abandon: () => void }
  | { kind: 'replay'; answer: StoredAnswer }
  | { kind: 'mismatch' }
  | { kind: 'in_flight' };

export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 60 * 60;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export class SandboxIdempotency {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly retentionSeconds = IDEMPOTENCY_RETENTION_SECONDS,
  ) {}

  begin(scope: string, key: string, params: unknown): Begin {
    this.prune();
    const id = `${scope}\u0000${key}`;
    const fingerprint = fingerprintOf(params);
    const existing = this.entries.get(id);
    if (existing) {
      if (existing.fingerprint !== fingerprint) return { kind: 'mismatch' };
      if (existing.state === 'in_flight') return { kind: 'in_flight' };
      return { kind: 'replay', answer: existing.answer };
    }
    const expiresAtMs = this.clock.nowMs() + this.retentionSeconds * 1000;
    this.entries.set(id, { state: 'in_flight', fingerprint, expiresAtMs });
    return {
      kind: 'started',
      complete: (answer) => this.entries.set(id, { state: 'completed', fingerprint, expiresAtMs, answer }),
      abandon: () => this.entries.delete(id),
    };
  }

  size(): number {
    this.prune();
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private prune(): void {
    const now = this.clock.nowMs();
    for (const [k, e] of this.entries)
      if (e.expiresAtMs <= now && e.state === 'completed') this.entries.delete(k);
  }
}

/** SHA-256 of the parameters re-serialised with sorted keys (whitespace and key order do not matter). */
export function fingerprintOf(params: unknown): string {
  return createHash('sha256').update(stableJson(params)).digest('hex');
}

// The simulator keeps its own copy of the gateway's stableJson (kernel/store/idempotency.ts) on purpose: it models the
// processor's fingerprint (an undefined value counts as null) and must not share the client's mistakes.
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}
