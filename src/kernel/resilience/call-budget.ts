import { getEventListeners } from 'node:events';

/**
 * One pipeline call's time: the total deadline (aggressive: the call rejects at the deadline even if the
 * function ignores its signal, and the attempt in flight is aborted) and each attempt's controller and
 * timeout. One timer per call serves both deadlines: it is set for the nearer one, and when it fires for
 * an attempt it re-arms itself for the total. A call that succeeds at once thus costs one setTimeout and
 * one clearTimeout (it was two of each), and the timer callback is module-level with the budget as
 * argument, so no closure is made for it.
 */
/** What a call reports to when it settles (the pipeline): outcome metrics, bulkhead slot, error mapping. */
export interface CallOwner {
  /** The value to resolve with (ok) or the error to reject with. */
  settled(call: CallBudget, ok: boolean, value: unknown): unknown;
  totalTimeout(): Error;
}

export class CallBudget {
  /** performance.now() by which the call must be done; set when the total budget starts. */
  deadline = Number.POSITIVE_INFINITY;
  expired = false;
  /** Set once the call holds a bulkhead slot; the owner frees it when the call settles. */
  holdsSlot = false;
  current: AbortController | undefined;
  private attemptDeadline = Number.POSITIVE_INFINITY;
  private ctrl: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private caller: AbortSignal | undefined;
  private onCallerAbort: (() => void) | undefined;
  private resolve!: (v: unknown) => void;
  private reject!: (e: unknown) => void;
  private settledAlready = false;

  constructor(
    private readonly totalMs: number,
    private readonly owner: CallOwner,
    /** performance.now() when the call came in (bulkhead wait included in its duration). */
    readonly started: number,
  ) {}

  /** A signal for waits outside an attempt (the rate limiter queue); made only when asked for. */
  get signal(): AbortSignal {
    this.ctrl ??= new AbortController();
    if (this.expired) this.ctrl.abort();
    return this.ctrl.signal;
  }

  /** The call's outcome; settled once by `settle` (the attempts), the deadline or the caller's signal. */
  result<R>(): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.resolve = resolve as (v: unknown) => void;
      this.reject = reject;
    });
  }

  /** The total budget starts (once a bulkhead slot is held): deadline timer, caller's signal. */
  start(caller: AbortSignal | undefined): void {
    this.deadline = performance.now() + this.totalMs;
    if (this.timer === undefined) this.arm(this.deadline);
    if (caller) {
      if (caller.aborted) this.expire();
      else {
        this.caller = caller;
        this.onCallerAbort = () => this.expire();
        caller.addEventListener('abort', this.onCallerAbort, { once: true });
      }
    }
  }

  expire(): void {
    if (this.settledAlready) return;
    this.expired = true;
    this.current?.abort();
    this.ctrl?.abort();
    this.settle(false, this.owner.totalTimeout());
  }

  /** The controller of a new attempt, aborted after `attemptMs` (or at the total deadline if sooner). */
  startAttempt(attemptMs: number): AbortController {
    const ctrl = takeController();
    this.current = ctrl;
    const now = performance.now();
    this.attemptDeadline = now + attemptMs < this.deadline ? now + attemptMs : Number.POSITIVE_INFINITY;
    if (this.attemptDeadline !== Number.POSITIVE_INFINITY || this.timer === undefined) {
      this.arm(Math.min(this.attemptDeadline, this.deadline), now);
    }
    return ctrl;
  }

  /** The timer stays armed: if it fires after the attempt ended it only re-arms for the total deadline. */
  endAttempt(ctrl: AbortController): void {
    if (this.current === ctrl) {
      this.current = undefined;
      this.attemptDeadline = Number.POSITIVE_INFINITY;
    }
    releaseController(ctrl);
  }

  /** The timer fired: expire the call, or abort the attempt that overran, then wait for what is left. */
  onTimer(): void {
    this.timer = undefined;
    if (this.settledAlready) return;
    const now = performance.now();
    if (now >= this.deadline) {
      this.expire();
      return;
    }
    if (now >= this.attemptDeadline) {
      this.attemptDeadline = Number.POSITIVE_INFINITY;
      this.current?.abort();
    }
    this.arm(Math.min(this.attemptDeadline, this.deadline), now);
  }

  private arm(at: number, now = performance.now()): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(fireTimer, Math.max(0, at - now), this);
  }

  /** Settles the call once (later outcomes, e.g. an attempt that ignored the deadline, are dropped). */
  settle(ok: boolean, v: unknown): void {
    if (this.settledAlready) return;
    this.settledAlready = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    const out = this.owner.settled(this, ok, v);
    if (ok) this.resolve(out);
    else this.reject(out);
  }
}

function fireTimer(call: CallBudget): void {
  call.onTimer();
}

/**
 * Attempt signals are recycled. On Node 20 the first listener added to a fresh AbortSignal costs ~20 µs
 * (undici adds one per request), while a signal that has had a listener before costs ~1 µs. A controller is
 * reused only if it was never aborted and nothing but its relay listens to it when the attempt ends
 * (HttpClient detaches before it returns), so no one can observe a later attempt's abort; `fn` must not use
 * `ctx.signal` after it settled (the contract of an attempt signal anyway).
 *
 * Each pooled signal carries an `AbortRelay` under `ATTEMPT_ABORT_RELAY`: a listener attached once, for the
 * controller's life, that forwards an abort to one swappable target. HttpClient sets itself as the target
 * instead of adding and removing its own listener per request (addEventListener + removeEventListener on an
 * AbortSignal were ~3 µs per request in bench/http.ts). `Symbol.for`, so kernel/http needs no import from here.
 */
export const ATTEMPT_ABORT_RELAY = Symbol.for('carebridge.attemptAbortRelay');

export class AbortRelay {
  target: { handleEvent(): void } | undefined = undefined;

  handleEvent(): void {
    const t = this.target;
    this.target = undefined;
    t?.handleEvent();
  }
}

const controllerPool: AbortController[] = [];
const CONTROLLER_POOL_MAX = 1024;

function takeController(): AbortController {
  const pooled = controllerPool.pop();
  if (pooled) return pooled;
  const ctrl = new AbortController();
  const relay = new AbortRelay();
  ctrl.signal.addEventListener('abort', relay);
  (ctrl.signal as unknown as Record<symbol, AbortRelay>)[ATTEMPT_ABORT_RELAY] = relay;
  return ctrl;
}

function releaseController(ctrl: AbortController): void {
  const relay = (ctrl.signal as unknown as Record<symbol, AbortRelay>)[ATTEMPT_ABORT_RELAY];
  if (
    !ctrl.signal.aborted &&
    controllerPool.length < CONTROLLER_POOL_MAX &&
    relay?.target === undefined &&
    getEventListeners(ctrl.signal, 'abort').length === 1
  ) {
    controllerPool.push(ctrl);
  }
}
