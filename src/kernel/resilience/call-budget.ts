import { getEventListeners } from 'node:events';
import { type DeadlineList, DeadlineNode, type DeadlineOwner } from './deadlines.js';

/** What a call reports to when it settles (the pipeline): outcome metrics, bulkhead slot, error mapping. */
export interface CallOwner {
  /** The value to resolve with (ok) or the error to reject with. */
  settled(call: CallBudget, ok: boolean, value: unknown): unknown;
  totalTimeout(): Error;
}

/** The pipeline's deadline lists: one for total budgets, one for attempt timeouts (see deadlines.ts). */
export interface CallDeadlines {
  total: DeadlineList;
  attempt: DeadlineList;
}

/**
 * One pipeline call's time: the total deadline (aggressive: the call rejects at the deadline even if the
 * function ignores its signal, and the attempt in flight is aborted) and each attempt's controller and
 * timeout. Both deadlines are nodes in the pipeline's deadline lists, so a call arms no timer of its own.
 */
export class CallBudget implements DeadlineOwner {
  /** performance.now() by which the call must be done; set when the total budget starts. */
  deadline = Number.POSITIVE_INFINITY;
  expired = false;
  /** Set once the call holds a bulkhead slot; the owner frees it when the call settles. */
  holdsSlot = false;
  current: AbortController | undefined;
  private readonly totalNode: DeadlineNode;
  private attemptNode: DeadlineNode | undefined;
  private ctrl: AbortController | undefined;
  private caller: AbortSignal | undefined;
  private onCallerAbort: (() => void) | undefined;
  private resolve!: (v: unknown) => void;
  private reject!: (e: unknown) => void;
  private settledAlready = false;

  constructor(
    private readonly deadlines: CallDeadlines,
    private readonly owner: CallOwner,
    /** performance.now() when the call came in (bulkhead wait included in its duration). */
    readonly started: number,
  ) {
    this.totalNode = new DeadlineNode(this);
  }

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

  /** The total budget starts (once a bulkhead slot is held): deadline, caller's signal. */
  start(caller: AbortSignal | undefined): void {
    const now = performance.now();
    this.deadlines.total.add(this.totalNode, now);
    this.deadline = this.totalNode.at;
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

  /** The controller of a new attempt, aborted after the attempt timeout (or at the total deadline if sooner). */
  startAttempt(): AbortController {
    const ctrl = takeController();
    this.current = ctrl;
    const now = performance.now();
    // An attempt timeout beyond the total deadline is left to the total deadline.
    if (now + this.deadlines.attempt.durationMs < this.deadline) {
      this.attemptNode ??= new DeadlineNode(this);
      this.deadlines.attempt.add(this.attemptNode, now);
    }
    return ctrl;
  }

  endAttempt(ctrl: AbortController): void {
    if (this.current === ctrl) {
      this.current = undefined;
      if (this.attemptNode) this.deadlines.attempt.remove(this.attemptNode);
    }
    releaseController(ctrl);
  }

  /** A deadline passed: the total one expires the call, an attempt's aborts the attempt in flight. */
  onDeadline(node: DeadlineNode): void {
    if (this.settledAlready) return;
    if (node === this.totalNode) this.expire();
    else this.current?.abort();
  }

  /** Settles the call once (later outcomes, e.g. an attempt that ignored the deadline, are dropped). */
  settle(ok: boolean, v: unknown): void {
    if (this.settledAlready) return;
    this.settledAlready = true;
    this.deadlines.total.remove(this.totalNode);
    if (this.attemptNode) this.deadlines.attempt.remove(this.attemptNode);
    if (this.onCallerAbort) this.caller?.removeEventListener('abort', this.onCallerAbort);
    const out = this.owner.settled(this, ok, v);
    if (ok) this.resolve(out);
    else this.reject(out);
  }
}

/**
 * Attempt signals are recycled. On Node 20 the first listener added to a fresh AbortSignal costs ~20 µs
 * (an HTTP request or gRPC call listens to its signal), while a signal that has had a listener before costs
 * ~1 µs. A controller is reused only if it was never aborted and nothing but its relay listens to it when
 * the attempt ends (HttpClient's exchange detaches before it settles), so no one can observe a later
 * attempt's abort; `fn` must not use `ctx.signal` after it settled (the contract of an attempt signal).
 *
 * Each pooled signal carries an `AbortRelay` under `ATTEMPT_ABORT_RELAY`: a listener attached once, for the
 * controller's life, that forwards an abort to one swappable target. HttpClient's exchange
 * (kernel/http/exchange.ts) sets itself as the target instead of adding and removing its own listener per
 * request (addEventListener + removeEventListener on an AbortSignal were ~3 µs per request in
 * bench/http.ts). `Symbol.for`, so kernel/http needs no import from here.
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
