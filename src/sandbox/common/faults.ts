import { z } from 'zod';

/**
 * Scripted faults (`POST /_sandbox/faults`). A rule matches a method and a path (exact, or a prefix ending
 * in `*`) and fires for its next `count` matching requests, or with `probability` on each one.
 * - `error`: answer `status` (default 500) without running the handler (nothing committed);
 * - `latency`: wait `latencyMs`, then handle normally;
 * - `reset`: destroy the socket; with `afterCommit: true` the handler runs first (the write is committed);
 * - `hang`: never answer (until the client gives up); with `afterCommit` the handler runs first;
 * - `fail_after_commit`: run the handler (commit), then answer `status` (default 500) instead of its result.
 */
export const faultRuleSchema = z
  .object({
    method: z.string().min(1).optional(),
    path: z.string().min(1).optional(),
    action: z.enum(['error', 'latency', 'reset', 'hang', 'fail_after_commit']),
    status: z.number().int().min(400).max(599).optional(),
    latencyMs: z.number().int().min(0).max(120_000).optional(),
    count: z.number().int().min(1).optional(),
    probability: z.number().min(0).max(1).optional(),
    afterCommit: z.boolean().optional(),
    retryAfterSeconds: z.number().int().min(0).optional(),
    /** Error code in the body of `error`/`fail_after_commit` answers. */
    code: z.string().optional(),
  })
  .strict();

export type FaultRule = z.infer<typeof faultRuleSchema>;
export type FaultAction = FaultRule['action'];

export const faultScriptSchema = z.union([
  faultRuleSchema,
  z
    .object({
      faults: z.array(faultRuleSchema),
      replace: z.boolean().optional(),
      seed: z.number().int().optional(),
    })
    .strict(),
]);

interface ActiveRule extends FaultRule {
  id: number;
  remaining: number | undefined;
  fired: number;
}

/** mulberry32: a tiny seeded PRNG so a chaos run can be reproduced from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FaultInjector {
  private rules: ActiveRule[] = [];
  private seq = 0;
  private random: () => number;
  /** How many times each action fired since the last reset (exposed in /_sandbox/state). */
  readonly fired: Record<string, number> = {};
  /** Requests checked against the rules since the last reset (the denominator of the fault rate). */
  checked = 0;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  add(rules: FaultRule[], opts: { replace?: boolean; seed?: number } = {}): number[] {
    if (opts.replace) this.rules = [];
    if (opts.seed !== undefined) this.random = seededRandom(opts.seed);
    return rules.map((r) => {
      if (r.count === undefined && r.probability === undefined) r = { ...r, count: 1 };
      const rule: ActiveRule = { ...r, id: ++this.seq, remaining: r.count, fired: 0 };
      this.rules.push(rule);
      return rule.id;
    });
  }

  clear(): void {
    this.rules = [];
    this.checked = 0;
    for (const k of Object.keys(this.fired)) delete this.fired[k];
  }

  list(): Array<FaultRule & { id: number; fired: number; remaining?: number }> {
    return this.rules.map(({ remaining, ...r }) => ({
      ...r,
      ...(remaining !== undefined ? { remaining } : {}),
    }));
  }

  /** The first rule that fires for this request, consuming one of its `count`. */
  match(method: string, path: string): FaultRule | undefined {
    if (this.rules.length > 0) this.checked++;
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) continue;
      if (rule.path && !pathMatches(rule.path, path)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      if (rule.remaining !== undefined) {
        if (rule.remaining <= 0) continue;
        rule.remaining--;
      }
      rule.fired++;
      this.fired[rule.action] = (this.fired[rule.action] ?? 0) + 1;
      if (rule.remaining === 0) this.rules = this.rules.filter((r) => r !== rule);
      return rule;
    }
    return undefined;
  }
}

function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}
