/**
 * What HttpClient hands undici as `signal`: an EventEmitter-shaped object (undici accepts one) that
 * follows the caller's AbortSignal. It is itself the listener on that signal (`handleEvent`), so no closure
 * is made, and it is detached (`unlink`) before the request returns. Handing undici the AbortSignal itself
 * leaves undici's listener attached until a later tick, which stops the pipeline from recycling the signal
 * (see takeController in resilience/call-budget.ts); a full EventEmitter per request (the previous bridge)
 * costs a `once` wrapper and an emit.
 */
export class AbortLink {
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | undefined;

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this);
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
    this.signal.removeEventListener('abort', this);
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
