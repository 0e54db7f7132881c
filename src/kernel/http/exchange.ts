import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';

/** Same key as resilience's ATTEMPT_ABORT_RELAY (a registered symbol: no import across kernel areas). */
const ATTEMPT_ABORT_RELAY = Symbol.for('carebridge.attemptAbortRelay');

type Relay = { target: { handleEvent(): void } | undefined };

/** What undici answered, before the client turns it into an HttpResponse. */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How an exchange ended without an answer; `phase` says whether the answer had started. */
export interface ExchangeFailure {
  error: unknown;
  /** The caller's signal aborted the exchange. */
  aborted: boolean;
  phase: 'request' | 'body';
}

/** The answer was bigger than the client accepts; the connection is dropped. */
export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`response body larger than ${limit} bytes`);
  }
}

/**
 * One request/response on undici's `Dispatcher.dispatch` with a handler of our own (undici's documented
 * `DispatchHandler`: onRequestStart/onResponseStart/onResponseData/onResponseEnd/onResponseError). The
 * body is collected as Buffers up to `maxBytes`, since every caller parses it whole (JSON, XML, text).
 *
 * Why not `Pool.request`: that builds an AsyncResource, a Readable stream for the body and the stream
 * consumer behind `body.text()` for every request, plus a listener and a 'close' hook on the caller's
 * signal; in bench/http.ts it cost ~4 µs more CPU per request than this handler. Behaviour kept: the
 * pool's connect/headers/body timeouts, TLS options and keep-alive all apply to `dispatch` alike.
 *
 * Abort: the caller's signal rejects the exchange at once, even while the request waits in the pool's
 * queue for a connection (Pool.request waits for the connection before it notices), and aborts the
 * request in undici as soon as it has one. On the pipeline's recycled attempt signals the exchange takes
 * the signal's relay (see resilience/call-budget.ts) instead of adding and removing a listener.
 */
export class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private status = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  private phase: 'request' | 'body' = 'request';
  private relay: Relay | undefined;

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly maxBytes: number,
    private readonly onAnswer: (a: RawAnswer) => void,
    private readonly onFailure: (f: ExchangeFailure) => void,
  ) {
    if (!signal) return;
    const relay = (signal as unknown as Record<symbol, Relay | undefined>)[ATTEMPT_ABORT_RELAY];
    if (relay && relay.target === undefined) {
      relay.target = this;
      this.relay = relay;
    } else signal.addEventListener('abort', this);
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    if (this.done) return;
    const reason = this.signal?.reason ?? new Error('aborted');
    // Settle first: undici may report the abort back through onResponseError synchronously.
    this.fail(reason, true);
    this.controller?.abort(reason instanceof Error ? reason : new Error(String(reason)));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Aborted while queued for a connection: the caller has its answer already; free the slot now.
    if (this.done) controller.abort(new Error('aborted before it was sent'));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // 1xx informational answers come before the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.headers = headers;
    this.phase = 'body';
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      controller.abort(new ResponseTooLarge(this.maxBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.done) return;
    this.finish();
    const c = this.chunks;
    const body = c.length === 1 ? (c[0] as Buffer) : Buffer.concat(c, this.size);
    this.chunks = [];
    this.onAnswer({ status: this.status, headers: this.headers, body });
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.fail(error, false);
  }

  private fail(error: unknown, aborted: boolean): void {
    if (this.done) return;
    this.finish();
    this.chunks = [];
    this.onFailure({ error, aborted, phase: this.phase });
  }

  private finish(): void {
    this.done = true;
    if (this.relay) {
      if (this.relay.target === this) this.relay.target = undefined;
    } else this.signal?.removeEventListener('abort', this);
  }
}
