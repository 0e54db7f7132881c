import { describe, expect, it } from 'vitest';
import { SandboxClock } from './clock.js';
import { fingerprintOf, SandboxIdempotency } from './idempotency.js';

describe('SandboxIdempotency', () => {
  it('started → in_flight for a concurrent request → replay once completed', () => {
    const idem = new SandboxIdempotency(new SandboxClock());
    const first = idem.begin('s', 'k', { a: 1 });
    expect(first.kind).toBe('started');
    expect(idem.begin('s', 'k', { a: 1 }).kind).toBe('in_flight');
    if (first.kind === 'started') first.complete({ status: 200, body: { id: 'x' }, requestId: 'req_1' });
    expect(idem.begin('s', 'k', { a: 1 })).toEqual({
      kind: 'replay',
      answer: { status: 200, body: { id: 'x' }, requestId: 'req_1' },
    });
    expect(idem.begin('s', 'k', { a: 2 }).kind).toBe('mismatch');
    expect(idem.begin('other', 'k', { a: 2 }).kind).toBe('started');
  });

  it('an abandoned key can be used again', () => {
    const idem = new SandboxIdempotency(new SandboxClock());
    const first = idem.begin('s', 'k', {});
    if (first.kind === 'started') first.abandon();
    expect(idem.begin('s', 'k', {}).kind).toBe('started');
  });

  it('prunes completed keys after 24 h on the sandbox clock', async () => {
    const clock = new SandboxClock(() => 0);
    const idem = new SandboxIdempotency(clock);
    const first = idem.begin('s', 'k', {});
    if (first.kind === 'started') first.complete({ status: 200, body: {}, requestId: 'r' });
    await clock.advance(24 * 3600 - 1);
    expect(idem.begin('s', 'k', {}).kind).toBe('replay');
    await clock.advance(1);
    expect(idem.begin('s', 'k', {}).kind).toBe('started');
  });

  it('keeps at most maxEntries keys, forgetting the oldest completed one first', () => {
    const idem = new SandboxIdempotency(new SandboxClock(), 3600, 2);
    const done = (k: string) => {
      const b = idem.begin('s', k, {});
      if (b.kind === 'started') b.complete({ status: 200, body: { k }, requestId: k });
    };
    done('k1');
    done('k2');
    done('k3');
    expect(idem.size()).toBe(2);
    expect(idem.begin('s', 'k1', {}).kind).toBe('started');
    expect(idem.begin('s', 'k3', {}).kind).toBe('replay');
  });

  it('saves completed keys (not in-flight ones) and replays them after a restore', () => {
    const clock = new SandboxClock(() => 0);
    const idem = new SandboxIdempotency(clock);
    const first = idem.begin('s', 'k', { a: 1 });
    if (first.kind === 'started') first.complete({ status: 201, body: { id: 'x' }, requestId: 'r1' });
    idem.begin('s', 'busy', {});
    const saved = JSON.parse(JSON.stringify(idem.snapshot()));
    expect(saved).toHaveLength(1);
    const restarted = new SandboxIdempotency(clock);
    restarted.restore(saved);
    expect(restarted.begin('s', 'k', { a: 1 })).toMatchObject({ kind: 'replay', answer: { status: 201 } });
    expect(restarted.begin('s', 'k', { a: 2 }).kind).toBe('mismatch');
    expect(restarted.begin('s', 'busy', {}).kind).toBe('started');
  });

  it('fingerprints ignore key order', () => {
    expect(fingerprintOf({ a: 1, b: { c: 2, d: 3 } })).toBe(fingerprintOf({ b: { d: 3, c: 2 }, a: 1 }));
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }));
  });
});
