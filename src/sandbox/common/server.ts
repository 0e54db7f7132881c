import { randomBytes } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { z } from 'zod';
import { SandboxClock } from './clock.js';
import { FaultInjector, type FaultRule, faultScriptSchema } from './faults.js';

/**
 * Shared machinery of every HTTP simulator: a Fastify server on 127.0.0.1 (port 0 by default), the raw body
 * kept for signature checks, a request id per answer, scripted faults, and the control routes
 * `POST /_sandbox/reset`, `POST|GET|DELETE /_sandbox/faults`, `POST /_sandbox/clock`, `GET /_sandbox/state`.
 */
export interface SandboxServerOptions {
  name: string;
  clock?: SandboxClock;
  faults?: FaultInjector;
  logger?: FastifyBaseLogger;
  host?: string;
  port?: number;
  /** Registers the simulator's API routes. */
  routes(app: FastifyInstance): void | Promise<void>;
  /** Forgets every record (faults and clock are reset by the server). */
  reset(): void | Promise<void>;
  /** What `GET /_sandbox/state` shows besides the clock and the faults. */
  state(): unknown;
}

export interface SandboxServer {
  readonly name: string;
  readonly app: FastifyInstance;
  readonly clock: SandboxClock;
  readonly faults: FaultInjector;
  /** Base URL once listening (`http://127.0.0.1:<port>`). */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    sandboxFault?: FaultRule;
  }
}

const clockSchema = z
  .object({
    advanceSeconds: z
      .number()
      .min(0)
      .max(5 * 366 * 24 * 3600),
  })
  .strict();

export async function createSandboxServer(opts: SandboxServerOptions): Promise<SandboxServer> {
  const clock = opts.clock ?? new SandboxClock();
  const faults = opts.faults ?? new FaultInjector();
  const app = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
    forceCloseConnections: true,
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => `req_${randomBytes(8).toString('hex')}`,
    bodyLimit: 1024 * 1024,
  });

  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer;
    req.rawBody = buf;
    if (buf.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(buf.toString('utf8')));
    } catch {
      const err = new Error('The body is not valid JSON.') as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('Request-Id', req.id);
    if (req.url.startsWith('/_sandbox')) return;
    const rule = faults.match(req.method, req.url.split('?')[0]!);
    if (!rule) return;
    switch (rule.action) {
      case 'latency':
        await new Promise((r) => setTimeout(r, rule.latencyMs ?? 1000));
        return;
      case 'error':
        return sendFault(reply, rule);
      case 'reset':
        if (rule.afterCommit) break;
        req.raw.socket.destroy();
        return reply.hijack();
      case 'hang':
        if (rule.afterCommit) break;
        await untilClosed(req);
        return reply.hijack();
      default:
        break;
    }
    req.sandboxFault = rule;
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const rule = req.sandboxFault;
    if (!rule) return payload;
    req.sandboxFault = undefined;
    if (rule.action === 'fail_after_commit') {
      reply.code(rule.status ?? 500).header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify(faultBody(rule));
    }
    if (rule.action === 'reset') req.raw.socket.destroy();
    if (rule.action === 'hang') await untilClosed(req);
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    reply.code(status).send({
      error: {
        type: status >= 500 ? 'api_error' : 'invalid_request_error',
        code: 'invalid_request',
        message: err.message,
      },
    });
  });

  app.post('/_sandbox/reset', async () => {
    faults.clear();
    clock.reset();
    await opts.reset();
    return { reset: true, now: clock.now().toISOString() };
  });
  app.get('/_sandbox/faults', async () => ({
    faults: faults.list(),
    fired: faults.fired,
    checked: faults.checked,
  }));
  app.delete('/_sandbox/faults', async () => {
    faults.clear();
    return { faults: [] };
  });
  /** A control body that does not parse is a 400 in the processor's error shape, with zod's whole message. */
  const refuse = (reply: FastifyReply, error: { message: string }) =>
    reply.code(400).send({ error: { type: 'invalid_request_error', message: error.message } });
  app.post('/_sandbox/faults', async (req, reply) => {
    const parsed = faultScriptSchema.safeParse(req.body);
    if (!parsed.success) return refuse(reply, parsed.error);
    const script = 'faults' in parsed.data ? parsed.data : { faults: [parsed.data] };
    const ids = faults.add(script.faults, script);
    return { ids, faults: faults.list() };
  });
  app.post('/_sandbox/clock', async (req, reply) => {
    const parsed = clockSchema.safeParse(req.body);
    if (!parsed.success) return refuse(reply, parsed.error);
    const { ran, now } = await clock.advance(parsed.data.advanceSeconds);
    return { now: now.toISOString(), jobsRan: ran, pendingJobs: clock.pending().length };
  });
  app.get('/_sandbox/state', async () => ({
    sandbox: opts.name,
    now: clock.now().toISOString(),
    faults: faults.list(),
    faultsFired: faults.fired,
    pendingJobs: clock.pending().length,
    ...(opts.state() as object),
  }));

  await opts.routes(app);

  const server: SandboxServer = {
    name: opts.name,
    app,
    clock,
    faults,
    url: '',
    async listen() {
      server.url = await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 });
      return server.url;
    },
    async close() {
      await app.close();
    },
  };
  return server;
}

function faultBody(rule: FaultRule) {
  const status = rule.status ?? 500;
  return {
    error: {
      type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error',
      code: rule.code ?? (status === 429 ? 'rate_limit' : 'sandbox_fault'),
      message: `Injected fault (${rule.action}).`,
    },
  };
}

function sendFault(reply: FastifyReply, rule: FaultRule) {
  if (rule.retryAfterSeconds !== undefined) reply.header('Retry-After', String(rule.retryAfterSeconds));
  return reply.code(rule.status ?? 500).send(faultBody(rule));
}

function untilClosed(req: FastifyRequest): Promise<void> {
  const socket = req.raw.socket;
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}
