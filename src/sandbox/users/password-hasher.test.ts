import { describe, expect, it } from 'vitest';
import { HashingBusy, PasswordHasher } from './password-hasher.js';

const cheap = { N: 1024, r: 8, p: 1 };

describe('PasswordHasher', () => {
  it('runs at most maxConcurrent derivations, queues maxQueued and refuses the rest at once', async () => {
    const hasher = new PasswordHasher({ cost: cheap, maxConcurrent: 2, maxQueued: 3 });
    const stored = await hasher.hash('correct horse');
    const calls = Array.from({ length: 5 }, (_, i) =>
      hasher.verify(i === 0 ? 'correct horse' : 'wrong', stored),
    );
    expect(hasher.running).toBe(2);
    expect(hasher.queued).toBe(3);
    await expect(hasher.verify('correct horse', stored)).rejects.toBeInstanceOf(HashingBusy);
    expect(await Promise.all(calls)).toEqual([true, false, false, false, false]);
    expect(hasher.running).toBe(0);
    expect(await hasher.verify('correct horse', stored)).toBe(true);
  });

  it('rejects unknown options', () => {
    expect(() => new PasswordHasher({ maxConcurent: 2 } as never)).toThrow(/unknown option maxConcurent/);
  });
});
