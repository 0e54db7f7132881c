import { describe, expect, it, vi } from 'vitest';
import { useFakeTimers } from '../../../test/support/fake-timers.js';
import { RetryBudget } from './retry-budget.js';

useFakeTimers();

describe('RetryBudget', () => {
  it('allows the floor when traffic is low and a share of requests when it is high', () => {
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 0.5, windowMs: 10_000 }); // floor: 5 per window
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    for (let i = 0; i < 100; i++) budget.recordRequest(); // 10% of 100 = 10
    for (let i = 0; i < 5; i++) expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('refills as the window slides', () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0.2, windowMs: 5_000 }); // 1 per window
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
    vi.advanceTimersByTime(4_000);
    expect(budget.tryWithdraw()).toBe(false);
    vi.advanceTimersByTime(1_000);
    expect(budget.tryWithdraw()).toBe(true);
  });
});
