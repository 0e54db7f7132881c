import type { Counter, Histogram } from 'prom-client';

type Labels = Record<string, string>;
/** prom-client 15's own record of one histogram series (lib/histogram.js `createBaseValues`). */
interface HistogramEntry {
  labels: Labels;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}
interface HistogramInternals {
  hashMap?: Record<string, HistogramEntry>;
  upperBounds?: number[];
  zero(labels: Labels): void;
}
interface Collectable {
  collect?: () => unknown;
}

/**
 * A counter and a duration histogram for ONE label set (e.g. integration, operation, outcome), recorded in
 * plain fields and added to the prom-client metrics when those are collected (a scrape, `metrics.text()`).
 * prom-client's labelled children re-validate and re-hash the label set, and turn the bucket bound into a
 * property key, on every inc/observe (~1 µs each): with a counter and a histogram in both the pipeline and
 * HttpClient that was four per outbound call in bench/http.ts. Here a record is a few additions.
 *
 * Adding a batch to a histogram series uses prom-client's internal record (`hashMap`, `upperBounds`, pinned
 * version 15.1.3, covered by metric-batch.test.ts); if those are not there, the series falls back to plain
 * `observe` per record.
 */
export class BatchedSeries {
  private count = 0;
  private sum = 0;
  private readonly buckets: Float64Array;
  private readonly bounds: readonly number[];
  private readonly direct: boolean;
  private entry: HistogramEntry | undefined;

  constructor(
    private readonly counter: Counter<string>,
    private readonly histogram: Histogram<string>,
    private readonly labels: Labels,
  ) {
    const h = histogram as unknown as HistogramInternals;
    this.direct = !(h.hashMap && Array.isArray(h.upperBounds) && typeof h.zero === 'function');
    this.bounds = h.upperBounds ?? [];
    this.buckets = new Float64Array(this.bounds.length);
    if (!this.direct) {
      onCollect(counter, this);
      onCollect(histogram, this);
    }
  }

  /** One event that took `seconds`. */
  record(seconds: number): void {
    if (this.direct) {
      this.counter.inc(this.labels);
      this.histogram.observe(this.labels, seconds);
      return;
    }
    this.count++;
    this.sum += seconds;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (seconds <= (b[i] as number)) {
        (this.buckets[i] as number)++;
        break;
      }
    }
  }

  /** Adds what was recorded since the last flush to the prom-client metrics. */
  flush(): void {
    if (this.count === 0) return;
    this.counter.inc(this.labels, this.count);
    const e = this.histogramEntry();
    e.sum += this.sum;
    e.count += this.count;
    for (let i = 0; i < this.bounds.length; i++) {
      const key = String(this.bounds[i]);
      e.bucketValues[key] = (e.bucketValues[key] ?? 0) + (this.buckets[i] as number);
      this.buckets[i] = 0;
    }
    this.count = 0;
    this.sum = 0;
  }

  private histogramEntry(): HistogramEntry {
    const h = this.histogram as unknown as HistogramInternals;
    const map = h.hashMap as Record<string, HistogramEntry>;
    // reset() replaces the map: look the entry up again unless it is still the one there.
    if (this.entry && Object.values(map).includes(this.entry)) return this.entry;
    this.entry = Object.values(map).find((x) => sameLabels(x.labels, this.labels));
    if (!this.entry) {
      h.zero(this.labels);
      this.entry = Object.values(h.hashMap as Record<string, HistogramEntry>).find((x) =>
        sameLabels(x.labels, this.labels),
      );
    }
    if (!this.entry) throw new Error('BatchedSeries: prom-client histogram record not found');
    return this.entry;
  }
}

function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/** The series to flush when a metric is collected; the metric's own collect hook (if any) runs first. */
const flushers = new WeakMap<object, Set<BatchedSeries>>();

function onCollect(metric: object, series: BatchedSeries): void {
  let set = flushers.get(metric);
  if (!set) {
    const all = new Set<BatchedSeries>();
    set = all;
    flushers.set(metric, all);
    const m = metric as Collectable;
    const previous = m.collect;
    m.collect = function (this: unknown) {
      for (const s of all) s.flush();
      return previous?.call(this);
    };
  }
  set.add(series);
}
