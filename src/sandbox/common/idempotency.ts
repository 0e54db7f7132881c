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

/** A completed key as saved with the sandbox's records (in-flight keys are not saved: their answer never left). */
export interface SavedIdempotencyKey {
  id: string;
  fingerprint: string;
  expiresAtMs: number;
  answer: StoredAnswer;
}

export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 60 * 60;
/** Keys kept at most; beyond it the oldest completed one is forgotten first (bounded memory and snapshot). */
export const DEFAULT_MAX_IDEMPOTENCY_KEYS = 10_000;
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export class SandboxIdempotency {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly retentionSeconds = IDEMPOTENCY_RETENTION_SECONDS,
    private readonly maxEntries = DEFAULT_MAX_IDEMPOTENCY_KEYS,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError('maxEntries must be a positive integer');
  }

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
    this.evictOverflow();
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

  /** The completed keys, oldest first. */
  snapshot(): SavedIdempotencyKey[] {
    this.prune();
    const out: SavedIdempotencyKey[] = [];
    for (const [id, e] of this.entries)
      if (e.state === 'completed')
        out.push({ id, fingerprint: e.fingerprint, expiresAtMs: e.expiresAtMs, answer: e.answer });
    return out;
  }

  /** Replaces the keys with saved ones (expired ones are dropped at the next prune). */
  restore(saved: readonly SavedIdempotencyKey[]): void {
    this.entries.clear();
    for (const k of saved)
      this.entries.set(k.id, {
        state: 'completed',
        fingerprint: k.fingerprint,
        expiresAtMs: k.expiresAtMs,
        answer: k.answer,
      });
    this.evictOverflow();
    this.prune();
  }

  private evictOverflow(): void {
    if (this.entries.size <= this.maxEntries) return;
    for (const [k, e] of this.entries) {
      if (e.state !== 'completed') continue;
      this.entries.delete(k);
      if (this.entries.size <= this.maxEntries) return;
    }
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
