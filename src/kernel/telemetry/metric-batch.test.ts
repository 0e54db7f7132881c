import { describe, expect, it } from 'vitest';
import { BatchedSeries } from './metric-batch.js';
import { Metrics } from './metrics.js';

const labels = ['integration', 'operation', 'outcome'] as const;
const durations = [0.0004, 0.003, 0.003, 0.07, 2, 40];

function pair(m: Metrics) {
  return {
    counter: m.counter('carebridge_test_calls_total', 'calls', labels),
    histogram: m.histogram(
      'carebridge_test_call_duration_seconds',
      'duration',
      labels,
      [0.001, 0.01, 0.1, 1],
    ),
  };
}

describe('BatchedSeries', () => {
  it('exposes exactly what prom-client would have counted call by call', async () => {
    const direct = new Metrics({ defaultMetrics: false });
    const d = pair(direct);
    for (const s of durations) {
      d.counter.inc({ integration: 'acme', operation: 'get', outcome: 'success' });
      d.histogram.observe({ integration: 'acme', operation: 'get', outcome: 'success' }, s);
    }
    const batched = new Metrics({ defaultMetrics: false });
    const b = pair(batched);
    const series = new BatchedSeries(b.counter, b.histogram, {
      integration: 'acme',
      operation: 'get',
      outcome: 'success',
    });
    for (const s of durations.slice(0, 3)) series.record(s);
    const mid = await batched.text();
    expect(mid).toContain(
      'carebridge_test_calls_total{integration="acme",operation="get",outcome="success"} 3',
    );
    for (const s of durations.slice(3)) series.record(s);
    expect(await batched.text()).toBe(await direct.text());
  });

  it('keeps counting into a histogram that was reset', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const { counter, histogram } = pair(m);
    const series = new BatchedSeries(counter, histogram, { integration: 'a', operation: 'b', outcome: 'c' });
    series.record(0.005);
    await m.text();
    histogram.reset();
    series.record(0.005);
    expect(await m.text()).toContain(
      'carebridge_test_call_duration_seconds_count{integration="a",operation="b",outcome="c"} 1',
    );
  });
});
