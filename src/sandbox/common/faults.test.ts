import { describe, expect, it } from 'vitest';
import { FaultInjector } from './faults.js';

describe('FaultInjector', () => {
  it('fires a counted rule exactly count times on matching method and path', () => {
    const f = new FaultInjector();
    f.add([{ method: 'POST', path: '/api/v1/charges', action: 'error', count: 2 }]);
    expect(f.match('GET', '/api/v1/charges')).toBeUndefined();
    expect(f.match('POST', '/api/v1/refunds')).toBeUndefined();
    expect(f.match('POST', '/api/v1/charges')?.action).toBe('error');
    expect(f.match('POST', '/api/v1/charges')?.action).toBe('error');
    expect(f.match('POST', '/api/v1/charges')).toBeUndefined();
  });

  it('a rule without count or probability fires once; a path ending in * matches the prefix', () => {
    const f = new FaultInjector();
    f.add([{ path: '/api/v1/*', action: 'reset' }]);
    expect(f.match('GET', '/api/v1/charges/ch_1')?.action).toBe('reset');
    expect(f.match('GET', '/api/v1/charges/ch_1')).toBeUndefined();
  });

  it('probability rules fire at about that rate and are reproducible from the seed', () => {
    const run = (seed: number) => {
      const f = new FaultInjector();
      f.add([{ action: 'error', probability: 0.3 }], { seed });
      return Array.from({ length: 2000 }, () => (f.match('POST', '/x') ? 1 : 0));
    };
    const a = run(42);
    const hits = a.reduce<number>((s, x) => s + x, 0);
    expect(hits).toBeGreaterThan(480);
    expect(hits).toBeLessThan(720);
    expect(run(42)).toEqual(a);
  });
});
