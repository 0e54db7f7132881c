import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the fault server does with one request:
 * - `respond` (default): after `delayMs`, answer `status` (200) with `headers` and `body` (objects become JSON);
 *   `retryAfter` adds a Retry-After header (seconds or an HTTP-date string);
 * - `reset`: destroy the connection after reading the request (the client sees ECONNRESET / socket closed);
 * - `hang`: never answer (only the client's timeout ends it);
 * - `truncate`: announce a Content-Length, send half the body, then close the connection.
 */
export interface FaultStep {
  action?: 'respond' | 'reset' | 'hang' | 'truncate';
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  delayMs?: number;
  retryAfter?: number | string;
  /** Repeat this step n times (default 1). */
  times?: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server for tests, scripted per request (first-in first-out; then `fallback`). */
export class FaultServer {
  readonly requests: SeenRequest[] = [];
  private steps: FaultStep[] = [];
  private fallback: FaultStep = { status: 200, body: { ok: true } };
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FaultServer> {
    let self: FaultServer | undefined;
    const server = createServer((req, res) => self?.handle(req, res));
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FaultServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s) => {
      self?.sockets.add(s);
      s.on('close', () => self?.sockets.delete(s));
    });
    return self;
  }

  /** Appends steps to the script. */
  script(...steps: FaultStep[]): this {
    for (const s of steps) for (let i = 0; i < (s.times ?? 1); i++) this.steps.push(s);
    return this;
  }

  /** What to do once the script is used up. */
  otherwise(step: FaultStep): this {
    this.fallback = step;
    return this;
  }

  reset(): void {
    this.steps = [];
    this.requests.length = 0;
    this.fallback = { status: 200, body: { ok: true } };
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const step = this.steps.shift() ?? this.fallback;
      const act = () => this.act(step, req, res);
      if (step.delayMs) {
        const t = setTimeout(() => {
          this.timers.delete(t);
          act();
        }, step.delayMs);
        this.timers.add(t);
      } else act();
    });
  }

  private act(step: FaultStep, req: IncomingMessage, res: ServerResponse): void {
    const action = step.action ?? 'respond';
    if (action === 'hang') return;
    if (action === 'reset') {
      req.socket.resetAndDestroy?.() ?? req.socket.destroy();
      return;
    }
    const payload =
      step.body === undefined ? '' : typeof step.body === 'string' ? step.body : JSON.stringify(step.body);
    const headers: Record<string, string> = { ...(step.headers ?? {}) };
    if (step.body !== undefined && typeof step.body !== 'string')
      headers['content-type'] ??= 'application/json';
    if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
    if (action === 'truncate') {
      const full = payload.length > 0 ? payload : JSON.stringify({ padding: 'x'.repeat(64) });
      res.writeHead(step.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(full)) });
      res.write(full.slice(0, Math.floor(full.length / 2)));
      setImmediate(() => req.socket.destroy());
      return;
    }
    res.writeHead(step.status ?? 200, { ...headers, 'content-length': String(Buffer.byteLength(payload)) });
    res.end(payload);
  }
}
