import type { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { Logger } from '../kernel/telemetry/index.js';

export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export interface StopOnSignalOptions {
  logger: Logger;
  /** The graceful stop (the runtime's: HTTP server, background workers, components, store). */
  stop: () => Promise<void>;
  /** Where the signals come from. Default `process`. */
  signals?: EventEmitter;
  /** Ends the process at once (a second signal). Default `process.exit`. */
  exit?: (code: number) => void;
  /** For the `stopped` line's duration. Default `performance.now`. */
  now?: () => number;
}

/**
 * Waits for SIGINT or SIGTERM, then stops gracefully and resolves with the exit code: 0, or 1 when the stop
 * failed. The stop logs each step (runtime.ts) and this ends with one `stopped` line, so the last line says
 * whether anything is still running. A second signal while stopping exits at once with 128 + the signal's
 * number (130 for a second Ctrl-C): someone who presses Ctrl-C twice wants the terminal back, whatever is
 * still draining.
 */
export function stopOnSignal(opts: StopOnSignalOptions): Promise<number> {
  const { logger } = opts;
  const signals = opts.signals ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const now = opts.now ?? (() => performance.now());
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, `second ${signal}: exiting without waiting for the stop to finish`);
        exit(128 + (constants.signals[signal] ?? 0));
        return;
      }
      stopping = true;
      const started = now();
      logger.info({ signal }, 'shutting down (send the signal again to exit at once)');
      opts.stop().then(
        () => {
          logger.info({ ms: Math.round(now() - started) }, 'stopped');
          done(0);
        },
        (err: unknown) => {
          logger.error({ err, ms: Math.round(now() - started) }, 'stopped, but the shutdown failed');
          done(1);
        },
      );
    };
    const done = (code: number) => {
      for (const s of SHUTDOWN_SIGNALS) signals.off(s, onSignal);
      resolve(code);
    };
    for (const s of SHUTDOWN_SIGNALS) signals.on(s, onSignal);
  });
}
