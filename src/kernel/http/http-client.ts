import { performance } from 'node:perf_hooks';
import type { Counter, Histogram } from 'prom-client';
import { Pool } from 'undici';
import { rejectUnknownOptions } from '../config/index.js';
import type { Logger, Metrics } from '../telemetry/index.js';
import { BatchedSeries } from '../telemetry/index.js';
import { networkError } from './errors.js';
import { Exchange, type ExchangeFailure, type RawAnswer } from './exchange.js';
import { childTraceparent } from './trace-context.js';
import { type HttpResponse, type RequestSigner, Signable } from './types.js';

export interface HttpClientTls {
  /** Extra trusted CA(s), PEM. */
  ca?: string | Buffer;
  /** Client certificate and key for mTLS, PEM. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true. Only non-production profiles may turn verification off (config refuses it in production). */
  rejectUnauthorized?: boolean;
}

export interface HttpClientOptions {
  baseUrl: string;
  integration: string;
  /** Keep-alive connections per origin. Default 64. */
  connections?: number;
  tls?: HttpClientTls;
  signer?: RequestSigner;
  metrics: Metrics;
  logger: Logger;
  userAgent?: string;
  /** Backstop for a silent socket when the caller passes no signal (ms). Default 300 s. */
  socketTimeoutMs?: number;
  /** Largest answer body accepted (bytes); a bigger one fails with UPSTREAM_RESPONSE_TOO_LARGE. Default 16 MiB. */
  maxResponseBytes?: number;
}

export interface HttpRequest {
  method: string;
  /** Relative to baseUrl, or an absolute URL (its origin gets its own pool). */
  path: string;
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
  contentType?: string;
  /** Metric/log label: a bounded name like 'createCharge', never an id. */
  operation: string;
  /** Sent as `Idempotency-Key`, the same on every attempt. */
  idempotencyKey?: string;
  /** The attempt's signal from the pipeline: aborting it cancels the request (per-attempt timeout). */
  signal?: AbortSignal;
  /** The caller's incoming W3C traceparent, if any: its trace id is kept, each attempt gets a new span id. */
  traceparent?: string;
}

/** Paths that need no normalisation by URL: no dot segments, no query, no fragment, only safe characters. */
const SIMPLE_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;

const ABSOLUTE = /^https?:\/\//i;

const KNOWN_OPTIONS = new Set([
  'baseUrl',
  'integration',
  'connections',
  'tls',
  'signer',
  'metrics',
  'logger',
  'userAgent',
  'socketTimeoutMs',
  'maxResponseBytes',
]);

/**
 * Outbound HTTP on undici: one keep-alive Pool per origin, TLS with custom CA / mTLS, signers run on every
 * call, W3C traceparent per attempt, metrics per (integration, operation, outcome), debug logs with the
 * logger's redaction. It returns for ANY HTTP status (map statuses with `upstreamStatusError` or the
 * integration's own mapper) and throws CareBridgeErrors for transport failures: UPSTREAM_UNAVAILABLE
 * (`details.notSent`), UPSTREAM_CONNECTION_RESET (outcome unknown), UPSTREAM_TIMEOUT, UPSTREAM_TLS_ERROR.
 * Retries belong to the resilience pipeline (one retry layer only); this client never retries, except one
 * re-signed resend after a 401 when the signer says a fresh credential may help.
 */
export class HttpClient {
  readonly integration: string;
  readonly baseUrl: URL;
  private readonly basePath: string;
  /** `baseUrl.origin` once: the URL getter builds a new string on every read. */
  private readonly origin: string;
  /** Simple relative paths already joined to the base path. */
  private readonly paths = new Map<string, string>();
  private readonly pools = new Map<string, Pool>();
  private readonly children = new Map<string, Map<string, BatchedSeries>>();
  private readonly requests: Counter<'integration' | 'operation' | 'outcome'>;
  private readonly duration: Histogram<'integration' | 'operation' | 'outcome'>;
  private readonly debug: boolean;
  private readonly maxResponseBytes: number;
  private closed = false;

  constructor(private readonly options: HttpClientOptions) {
    rejectUnknownOptions('HttpClient', options, KNOWN_OPTIONS);
    this.baseUrl = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    if (!['http:', 'https:'].includes(this.baseUrl.protocol))
      throw new RangeError(`HttpClient: baseUrl must be http(s), got ${this.baseUrl.protocol}`);
    if (
      options.connections !== undefined &&
      !(Number.isInteger(options.connections) && options.connections >= 1)
    ) {
      throw new RangeError('HttpClient: connections must be a positive integer');
    }
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
    if (!(Number.isInteger(this.maxResponseBytes) && this.maxResponseBytes >= 0)) {
      throw new RangeError('HttpClient: maxResponseBytes must be a non-negative integer');
    }
    this.basePath = this.baseUrl.pathname;
    this.origin = this.baseUrl.origin;
    this.integration = options.integration;
    const labels = ['integration', 'operation', 'outcome'] as const;
    this.requests = options.metrics.counter(
      'carebridge_http_client_requests_total',
      'Outbound HTTP requests (attempts) by outcome.',
      labels,
    );
    this.duration = options.metrics.histogram(
      'carebridge_http_client_request_duration_seconds',
      'Duration of outbound HTTP attempts, body read included.',
      labels,
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
    this.debug = options.logger.isLevelEnabled?.('debug') ?? false;
  }

  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    if (this.closed) return Promise.reject(new Error('HttpClient is closed'));
    const target = this.targetFor(req);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (req.headers) for (const k in req.headers) headers[k.toLowerCase()] = req.headers[k] as string;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    let body: Buffer | undefined;
    if (req.json !== undefined) {
      body = Buffer.from(JSON.stringify(req.json));
      headers['content-type'] = req.contentType ?? 'application/json';
    } else if (req.body !== undefined) {
      body = typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
      if (req.contentType) headers['content-type'] = req.contentType;
    }
    if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
    const signable = new Signable(
      req.method.toUpperCase(),
      target.origin,
      target.path,
      headers,
      body,
      req.idempotencyKey,
    );
    // Without a signer that can refresh, the answer is the first send's: no extra async frame for it.
    if (!this.options.signer?.refreshOnUnauthorized) return this.send<T>(signable, req);
    return this.sendWithRefresh<T>(signable, req);
  }

  private async sendWithRefresh<T>(signable: Signable, req: HttpRequest): Promise<HttpResponse<T>> {
    let res = await this.send<T>(signable, req);
    if (res.status === 401 && (await this.options.signer?.refreshOnUnauthorized?.(signable))) {
      res = await this.send<T>(signable, req);
    }
    return res;
  }

  /** Signs (when there is a signer) and sends once; a signer-free request adds no async frame. */
  private send<T>(signable: Signable, req: HttpRequest): Promise<HttpResponse<T>> {
    try {
      signable.headers.traceparent = childTraceparent(req.traceparent);
      const signing = this.options.signer?.sign(signable);
      if (signing) return signing.then(() => this.exchange<T>(signable, req));
      return this.exchange<T>(signable, req);
    } catch (err) {
      // A signer that throws rejects the request like an async one would: callers see one failure shape.
      return Promise.reject(err);
    }
  }

  private exchange<T>(signable: Signable, req: HttpRequest): Promise<HttpResponse<T>> {
    const signal = req.signal;
    if (signal?.aborted) {
      return Promise.reject(
        networkError(signal.reason, { integration: this.integration, aborted: true, phase: 'request' }),
      );
    }
    const started = performance.now();
    return new Promise<HttpResponse<T>>((resolve, reject) => {
      const exchange = new Exchange(
        signal,
        this.maxResponseBytes,
        (a) => resolve(this.answer<T>(a, signable, req, started)),
        (f) => reject(this.failure(f, signable, req, started)),
      );
      this.poolFor(signable.origin).dispatch(
        {
          method: signable.method as 'GET',
          path: signable.path,
          headers: signable.headers,
          body: signable.body,
        },
        exchange,
      );
    });
  }

  private answer<T>(a: RawAnswer, signable: Signable, req: HttpRequest, started: number): HttpResponse<T> {
    const text = a.body.toString('utf8');
    // undici's header object is this response's own: repeated headers are joined in place, not copied.
    const headers = a.headers as Record<string, string | string[] | undefined>;
    for (const k in headers) {
      const v = headers[k];
      if (v === undefined) delete headers[k];
      else if (typeof v !== 'string') headers[k] = v.join(', ');
    }
    const parsed = parseBody(text, headers['content-type'] as string | undefined);
    this.observe(req.operation, STATUS_CLASS[Math.floor(a.status / 100)] ?? 'other', started);
    if (this.debug) this.log(signable, req, a.status, started);
    return { status: a.status, headers: headers as Record<string, string>, body: parsed as T, text };
  }

  private failure(f: ExchangeFailure, signable: Signable, req: HttpRequest, started: number): Error {
    const e = networkError(f.error, { integration: this.integration, aborted: f.aborted, phase: f.phase });
    this.observe(req.operation, e.code, started);
    if (this.debug) this.log(signable, req, e.code, started);
    return e;
  }

  /** One batched series per (operation, outcome): see BatchedSeries for why not prom-client's children. */
  private observe(operation: string, outcome: string, started: number): void {
    let byOutcome = this.children.get(operation);
    if (!byOutcome) {
      byOutcome = new Map();
      this.children.set(operation, byOutcome);
    }
    let m = byOutcome.get(outcome);
    if (!m) {
      m = new BatchedSeries(this.requests, this.duration, {
        integration: this.integration,
        operation,
        outcome,
      });
      byOutcome.set(outcome, m);
    }
    m.record((performance.now() - started) / 1000);
  }

  private log(signable: Signable, req: HttpRequest, outcome: number | string, started: number): void {
    // The query string stays out of logs (it can carry identifiers); headers go through the logger's redaction.
    this.options.logger.debug(
      {
        integration: this.integration,
        operation: req.operation,
        request: {
          method: signable.method,
          url: `${signable.url.origin}${signable.url.pathname}`,
          headers: signable.headers,
        },
        outcome,
        ms: Math.round(performance.now() - started),
      },
      'outbound http',
    );
  }

  /** Origin and path+query of the request; a plain relative path avoids a URL parse. */
  private targetFor(req: HttpRequest): { origin: string; path: string } {
    let query = '';
    if (req.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) if (v !== undefined) q.set(k, String(v));
      const qs = q.toString();
      if (qs) query = qs;
    }
    let path = this.paths.get(req.path);
    if (path === undefined && !ABSOLUTE.test(req.path) && SIMPLE_PATH.test(req.path)) {
      path = this.basePath + (req.path.charCodeAt(0) === 47 ? req.path.slice(1) : req.path);
      // Bounded: paths that carry ids are joined every time once the cache is full.
      if (this.paths.size < 512) this.paths.set(req.path, path);
    }
    if (path !== undefined) return { origin: this.origin, path: query ? `${path}?${query}` : path };
    const url = ABSOLUTE.test(req.path)
      ? new URL(req.path)
      : new URL(req.path.replace(/^\//, ''), this.baseUrl);
    if (query) url.search = url.search ? `${url.search.slice(1)}&${query}` : query;
    return { origin: url.origin, path: url.pathname + url.search };
  }

  private poolFor(origin: string): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      const tls = this.options.tls ?? {};
      const socketTimeout = this.options.socketTimeoutMs ?? 300_000;
      pool = new Pool(origin, {
        connections: this.options.connections ?? 64,
        keepAliveTimeout: 30_000,
        headersTimeout: socketTimeout,
        bodyTimeout: socketTimeout,
        connect: {
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          rejectUnauthorized: tls.rejectUnauthorized !== false,
        },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }
}

const STATUS_CLASS = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

function parseBody(text: string, contentType: string | undefined): unknown {
  if (text === '' || !contentType || !/\bjson\b/i.test(contentType)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
