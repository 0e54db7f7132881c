/** Same key as resilience's ATTEMPT_ABORT_RELAY (a registered symbol: no import across kernel areas). */
const ATTEMPT_ABORT_RELAY = Symbol.for('carebridge.attemptAbortRelay');

/**
 * What HttpClient hands undici as `signal`: an EventEmitter-shaped object (undici accepts one) that
 * follows the caller's AbortSignal. It is itself the listener on that signal (`handleEvent`), so no closure
 * is made, and it is detached (`unlink`) before the request returns. On the pipeline's recycled attempt
 * signals it takes the signal's relay instead of adding a listener of its own. Handing undici the
 * AbortSignal itself leaves undici's listener attached until a later tick, which stops the pipeline from recycling the signal
 * (see takeController in resilience/call-budget.ts); a full EventEmitter per request (the previous bridge)
 * costs a `once` wrapper and an emit.
 */
export class AbortLink {
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | undefined;

  /** The pipeline's relay on its recycled attempt signals, when free (see resilience/call-budget.ts). */
  private readonly relay: { target: { handleEvent(): void } | undefined } | undefined;

  constructor(private readonly signal: AbortSignal) {
    const relay = (signal as unknown as Record<symbol, AbortLink['relay']>)[ATTEMPT_ABORT_RELAY];
    if (relay && relay.target === undefined) {
      relay.target = this;
      this.relay = relay;
    } else signal.addEventListener('abort', this);
  }

  handleEvent(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = this.signal.reason;
    const l = this.listener;
    this.listener = undefined;
    l?.();
  }

  /** Detaches from the caller's signal; undici's listener is dropped with it. */
  unlink(): void {
    if (this.relay) {
      if (this.relay.target === this) this.relay.target = undefined;
    } else this.signal.removeEventListener('abort', this);
    this.listener = undefined;
  }

  // The EventEmitter surface undici uses (util.addAbortListener / api-request.js): one 'abort' listener.
  on(_event: 'abort', listener: () => void): this {
    this.listener = listener;
    return this;
  }

  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  addListener(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): this {
    if (this.listener === listener) this.listener = undefined;
    return this;
  }

  off(event: 'abort', listener: () => void): this {
    return this.removeListener(event, listener);
  }
}
