import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../kernel/telemetry/index.js';
import { SHUTDOWN_SIGNALS, stopOnSignal } from './shutdown.js';

function harness() {
  const lines: Array<{ level: string; msg: string; [k: string]: unknown }> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  const signals = new EventEmitter();
  const exits: number[] = [];
  let stops = 0;
  let finish!: (err?: Error) => void;
  const stopped = new Promise<void>((resolve, reject) => {
    finish = (err) => (err ? reject(err) : resolve());
  });
  const code = stopOnSignal({
    logger: createLogger({ level: 'info', destination }),
    signals,
    exit: (c) => exits.push(c),
    now: () => 0,
    stop: () => {
      stops++;
      return stopped;
    },
  });
  return { lines, signals, exits, code, finish, stops: () => stops };
}

describe('stopping on a signal', () => {
  it('stops once, and ends with a "stopped" line and exit code 0', async () => {
    const h = harness();
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(h.stops()).toBe(1);
    expect(h.lines.map((l) => l.msg)).toEqual(['shutting down (send the signal again to exit at once)']);
    h.finish();
    expect(await h.code).toBe(0);
    expect(h.lines.at(-1)).toMatchObject({ level: 'info', msg: 'stopped', ms: 0 });
    expect(h.exits).toEqual([]);
    // Once stopped it listens no more: the process exits with the code.
    for (const s of SHUTDOWN_SIGNALS) expect(h.signals.listenerCount(s)).toBe(0);
  });

  it('exits at once with 130 on a second SIGINT while the stop is still running', async () => {
    const h = harness();
    h.signals.emit('SIGINT', 'SIGINT');
    h.signals.emit('SIGINT', 'SIGINT');
    expect(h.exits).toEqual([130]);
    expect(h.stops()).toBe(1);
    expect(h.lines.at(-1)).toMatchObject({
      level: 'warn',
      signal: 'SIGINT',
      msg: 'second SIGINT: exiting without waiting for the stop to finish',
    });
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(h.exits).toEqual([130, 143]);
  });

  it('ends with exit code 1 when the stop fails, saying so on the last line', async () => {
    const h = harness();
    h.signals.emit('SIGINT', 'SIGINT');
    h.finish(new Error('store close failed'));
    expect(await h.code).toBe(1);
    expect(h.lines.at(-1)).toMatchObject({
      level: 'error',
      msg: 'stopped, but the shutdown failed',
      err: { message: 'store close failed' },
    });
  });
});
