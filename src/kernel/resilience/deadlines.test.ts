import { describe, expect, it, vi } from 'vitest';
import { useFakeTimers } from '../../../test/support/fake-timers.js';
import { DeadlineNode, type DeadlineOwner, DeadlineTimer } from './deadlines.js';

useFakeTimers();

/** An owner that records when (fake clock) and which of its nodes came due. */
function recorder() {
  const told: Array<{ name: string; at: number }> = [];
  const owner = (name: string): DeadlineOwner => ({
    onDeadline: () => told.push({ name, at: performance.now() }),
  });
  return { told, owner };
}

describe('DeadlineTimer', () => {
  it('serves deadlines of several durations with one timer, each told once, in due order and never early', async () => {
    const timer = new DeadlineTimer();
    const short = timer.list(100);
    const long = timer.list(250);
    const { told, owner } = recorder();
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      short.add(new DeadlineNode(owner(`s${i}`)), performance.now());
      long.add(new DeadlineNode(owner(`l${i}`)), performance.now());
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    // Due at 100, 140, 180, 220, 260 (short) and 250, 290, 330, 370, 410 (long) after t0.
    expect(told.map((t) => t.name)).toEqual(['s0', 's1', 's2', 's3', 'l0', 's4', 'l1', 'l2', 'l3', 'l4']);
    for (const t of told) {
      const i = Number(t.name.slice(1));
      const due = t0 + i * 40 + (t.name.startsWith('s') ? 100 : 250);
      expect(t.at).toBeGreaterThanOrEqual(due);
      expect(t.at).toBeLessThanOrEqual(due + 1);
    }
    // Nothing left: no timer keeps the process alive.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('tells nobody about a removed deadline and drops the timer once none is left', async () => {
    const timer = new DeadlineTimer();
    const list = timer.list(100);
    const { told, owner } = recorder();
    const a = new DeadlineNode(owner('a'));
    const b = new DeadlineNode(owner('b'));
    list.add(a, performance.now());
    list.add(b, performance.now());
    list.remove(a);
    list.remove(a);
    expect(vi.getTimerCount()).toBe(1);
    list.remove(b);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(500);
    expect(told).toEqual([]);
  });

  it('re-adding a node moves it; a deadline earlier than the tail (clock went back) still comes in order', async () => {
    const timer = new DeadlineTimer();
    const list = timer.list(100);
    const { told, owner } = recorder();
    const a = new DeadlineNode(owner('a'));
    const b = new DeadlineNode(owner('b'));
    const now = performance.now();
    // `a` was added by a clock 50 ms ahead of the one that adds `b`: a is due at now+150, b at now+100.
    list.add(a, now + 50);
    list.add(b, now);
    await vi.advanceTimersByTimeAsync(100);
    expect(told.map((t) => t.name)).toEqual(['b']);
    list.add(a, performance.now());
    await vi.advanceTimersByTimeAsync(60);
    expect(told.map((t) => t.name)).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(60);
    expect(told.map((t) => t.name)).toEqual(['b', 'a']);
  });

  it('keeps serving deadlines an owner adds while it is being told', async () => {
    const timer = new DeadlineTimer();
    const list = timer.list(100);
    let rounds = 0;
    const node: DeadlineNode = new DeadlineNode({
      onDeadline: () => {
        if (++rounds < 3) list.add(node, performance.now());
      },
    });
    list.add(node, performance.now());
    await vi.advanceTimersByTimeAsync(350);
    expect(rounds).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });
});
