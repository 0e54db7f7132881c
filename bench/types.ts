/**
 * What every `bench/<name>.ts` returns from `run()`. `bench/run.ts` prints `table` (or a side-by-side of
 * `ours` and `baseline`) and then the one JSON line `{"bench", "ours", "baseline", "ratio", ...extra}`.
 */
export interface BenchResult {
  /** Our implementation's figures (e.g. `{ rps, p50Ms, p99Ms }`). */
  ours: Record<string, number | string>;
  /** The baseline's figures, same keys. */
  baseline: Record<string, number | string>;
  /** ours / baseline on the headline figure (higher is better for ours). */
  ratio: number;
  /** Rows to print as a readable table before the JSON line. */
  table?: Array<Record<string, string | number>>;
  /** Anything else worth keeping in the JSON line (goal, request counts, notes). */
  [extra: string]: unknown;
}
