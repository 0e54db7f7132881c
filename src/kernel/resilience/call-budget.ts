import { getEventListeners } from 'node:events';

/**
 * One pipeline call's time: the total deadline (aggressive: the call rejects at the deadline even if the
 * function ignores its signal, and the attempt in flight is aborted) and each attempt's controller and
 * timeout. Timers are started with a module-level callback and the budget as argument, so no closure is
 * made per call for them.
 */
export class CallBudget {
  readonly deadline: number;
  expired = false;
  current: AbortController | undefined;
  private ctrl: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private caller: AbortSignal | undefined;
  private onCallerAbort: (() => void) | undefined;
  private resolve!: (v: unknown) => void;
  private reject!: (e: unknown) => void;
  private settled = false;

  constructor(
    private readonly totalMs: number,
    private readonly timeoutError: () => Error,
  ) {
    this.deadline = Date.now() + totalMs;
  }

  /** A signal for waits outside an attempt (the rate limiter queue); made only when asked for. */
  get signal(): AbortSignal {
    this.ctrl ??= new AbortController();
    if (this.expired) this.ctrl.abort();
    return this.ctrl.signal;
  }

  /** Settles with `work`, or with the timeout error at the deadline or when the caller's signal aborts. */
  race<R>(work: Promise<R>, caller: AbortSignal | undefined): Promise<R> {
    const p = new Promise<R>((resolve, reject) => {
      this.resolve = resolve as (v: unknown) => void;
      this.reject = reject;
    });
    this.timer = setTimeout(expireCall, this.totalMs, this);
    if (caller) {
      if (caller.aborted) this.expire();
      else {
        this.caller = caller;
        this.onCallerAbort = () => this.expire();
        caller.addEventListener('abort', this.onCallerAbort, { once: true });
      }
    }
    work.then(
      (v) => this.settle(true, v),
      (e: unknown) => this.settle(false, e),
    );
    return p;
  }

  expire(): void {
    if (this.settled) return;
    this.expired = true;
    this.current?.abort();
    this.ctrl?.abort();
    this.settle(false, this.timeoutError());
  }

  /** The controller of a new attempt, aborted after `attemptMs` (no timer when the total comes first). */
  startAttempt(attemptMs: number): {
    ctrl: AbortController;
    timer: ReturnType<typeof setTimeout> | undefined;
  } {
    const ctrl = takeController();
    this.current = ctrl;
    const timer = attemptMs < this.totalMs ? setTimeout(abortController, attemptMs, ctrl) : undefined;
    return { ctrl, timer };
  }

  endAttempt(ctrl: AbortController, timer: ReturnType<typeof setTimeout> | undefined): void {
    if (timer !== undefined) clearTimeout(timer);
    if (this.current === ctrl) this.current = undefined;
    releaseController(ctrl);
  }

  private settle(ok: boolean, v: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    if (ok) this.resolve(v);
    else this.reject(v);
  }
}

function expireCall(call: CallBudget): void {
  call.expire();
}

function abortController(ctrl: AbortController): void {
  ctrl.abort();
}

/**
 * Attempt signals are recycled. On Node 20 the first listener added to a fresh AbortSignal costs ~20 µs
 * (undici adds one per request), while a signal that has had a listener before costs ~1 µs. A controller is
 * reused only if it was never aborted and nothing listens to it when the attempt ends (HttpClient removes its
 * listener before it returns), so no one can observe a later attempt's abort; `fn` must not use `ctx.signal`
 * after it settled (the contract of an attempt signal anyway).
 */
const controllerPool: AbortController[] = [];
const CONTROLLER_POOL_MAX = 1024;

function takeController(): AbortController {
  return controllerPool.pop() ?? new AbortController();
}

function releaseController(ctrl: AbortController): void {
  if (
    !ctrl.signal.aborted &&
    controllerPool.length < CONTROLLER_POOL_MAX &&
    getEventListeners(ctrl.signal, 'abort').length === 0
  ) {
    controllerPool.push(ctrl);
  }
}
