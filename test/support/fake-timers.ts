import { afterEach, beforeEach, vi } from 'vitest';

/** Every test of the calling file runs on vitest's fake clock (backoff, breaker and clock tests never sleep). */
export function useFakeTimers(): void {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}
