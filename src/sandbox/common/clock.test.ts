import { describe, expect, it } from 'vitest';
import { SandboxClock } from './clock.js';

describe('SandboxClock', () => {
  it('runs due jobs in time order, each seeing its own due time as now', async () => {
    const clock = new SandboxClock(() => 1_000_000);
    const seen: Array<[string, number]> = [];
    clock.schedule(1_000_000 + 5000, 'b', () => void seen.push(['b', clock.nowMs()]));
    clock.schedule(1_000_000 + 2000, 'a', () => {
      seen.push(['a', clock.nowMs()]);
      clock.schedule(clock.nowMs() + 1000, 'a2', () => void seen.push(['a2', clock.nowMs()]));
    });
    clock.schedule(1_000_000 + 60_000, 'later', () => void seen.push(['later', clock.nowMs()]));
    const r = await clock.advance(10);
    expect(seen).toEqual([
      ['a', 1_002_000],
      ['a2', 1_003_000],
      ['b', 1_005_000],
    ]);
    expect(r.ran).toBe(3);
    expect(clock.nowMs()).toBe(1_010_000);
    expect(clock.pending()).toHaveLength(1);
  });

  it('follows wall time plus the advanced offset, and reset goes back to wall time', async () => {
    let wall = 0;
    const clock = new SandboxClock(() => wall);
    await clock.advance(100);
    wall = 5000;
    expect(clock.nowMs()).toBe(105_000);
    clock.reset();
    expect(clock.nowMs()).toBe(5000);
  });

  it('refuses a negative advance', () => {
    expect(() => new SandboxClock().advance(-1)).toThrow(RangeError);
  });
});
