import { type App, type Authenticator, buildApp, type RouteModule } from '../gateway/index.js';
import { FeatureFlags, type LoadOptions } from '../kernel/config/index.js';
import {
  type JobHandler,
  migrate,
  OutboxDestinations,
  type OutboxTransport,
  openStore,
} from '../kernel/store/index.js';
import { createLogger, HealthRegistry, type Logger, Metrics } from '../kernel/telemetry/index.js';
import { type Background, startBackground } from './background.js';
import type { Component, ComponentHandle, RuntimeContext, SandboxAddress } from './components/component.js';
import { type Config, FLAGS } from './config.js';
import { watchFeatureFlags } from './flag-reload.js';
import { MIGRATIONS } from './migrations.js';
import { startRateLimits } from './rate-limits.js';

export interface Runtime extends RuntimeContext {
  app: App;
  /** The in-process simulators the components started, with their addresses (the start-up summary lists them). */
  sandboxes: SandboxAddress[];
  /** The address the gateway listens on, once `listen` has run. */
  url?: string;
  listen(): Promise<string>;
  /**
   * Reads CAREBRIDGE_FEATURE_FLAGS again from `configSource` and applies it at once (main wires SIGHUP here);
   * false when the configuration is invalid (nothing changes) or the runtime was given no `configSource`.
   */
  reloadFlags(): boolean;
  /** Graceful stop: refuse new requests, finish in-flight ones, stop components, close the store. */
  stop(): Promise<void>;
}

export interface CreateRuntimeOptions {
  config: Config;
  logger?: Logger;
  /** Started in this order, stopped in reverse (`cli/components/index.ts` has the list `carebridge` runs). */
  components: Component[];
  /**
   * How `config` was loaded (`{}`: the environment and the default profile file). Given, feature flags follow the
   * profile file while the gateway runs, and `reloadFlags()` re-reads them.
   */
  configSource?: LoadOptions;
}

export async function createRuntime(opts: CreateRuntimeOptions): Promise<Runtime> {
  const { config } = opts;
  const logger = opts.logger ?? createLogger({ level: config.logLevel });
  const metrics = new Metrics();
  const health = new HealthRegistry();
  const flags = new FeatureFlags(FLAGS, config.featureFlags);
  // Filled with the components' transport prefixes below; `enqueue` refuses any other destination.
  const outbox = new OutboxDestinations({ logger, metrics });
  // One line per step of start and stop, each with how long it took: the log shows where the time went.
  const lap = stopwatch();
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    logger,
    outbox,
  });
  logger.info({ store: store.target, ms: lap() }, 'store opened');
  /** What stop() stops, in start order, each with the name its log line gives. */
  const handles: Array<{ name: string; handle: Pick<ComponentHandle, 'stop'> }> = [];
  try {
    const flagReloader = opts.configSource && watchFeatureFlags({ flags, source: opts.configSource, logger });
    handles.push({
      name: 'feature flags',
      handle: {
        async stop() {
          flagReloader?.stop();
          await flags.close();
        },
      },
    });
    if (config.migrateOnStart) {
      const { applied } = await migrate(store, MIGRATIONS);
      const ms = lap();
      if (applied.length) logger.info({ applied, ms }, 'migrations applied');
    }
    health.register({
      name: 'store',
      required: true,
      target: store.target,
      check: async () => {
        await store.ping();
        return { status: 'up', detail: store.kind };
      },
    });
    // Stopped last (handles stop in reverse): components may use the limiters until they stop.
    const rateLimits = startRateLimits({ config, logger, health });
    handles.push({ name: 'rate limits', handle: rateLimits });
    let background: Background | undefined;
    const ctx: RuntimeContext = {
      config,
      logger,
      metrics,
      health,
      store,
      flags,
      limiters: rateLimits.limiters,
      wakeOutbox: () => background?.relay.wake(),
    };
    const routes: RouteModule[] = [];
    const transports: Array<{ prefix: string; transport: OutboxTransport }> = [];
    const jobHandlers: Record<string, JobHandler> = {};
    let authenticator: Authenticator | undefined;
    const sandboxes: SandboxAddress[] = [];
    for (const component of opts.components) {
      const handle = await component.start(ctx);
      handles.push({ name: component.name, handle });
      logger.info({ component: component.name, ms: lap() }, 'component started');
      sandboxes.push(...(handle.sandboxes ?? []));
      routes.push(...(handle.routes ?? []));
      transports.push(...(handle.outboxTransports ?? []));
      outbox.register(...(handle.outboxTransports ?? []).map((t) => t.prefix));
      Object.assign(jobHandlers, handle.jobHandlers);
      authenticator = handle.authenticator ?? authenticator;
    }
    const { app } = await buildApp({ ...ctx, routes, authenticator });
    const started = await startBackground({
      store,
      config,
      logger,
      metrics,
      health,
      transports,
      jobHandlers,
    });
    background = started;
    handles.push({ name: 'background workers', handle: started });

    let stopping: Promise<void> | undefined;
    const runtime: Runtime = {
      ...ctx,
      app,
      reloadFlags: () => (flagReloader ? flagReloader.reload() : false),
      sandboxes,
      async listen() {
        const url = await app.listen({ port: config.port, host: config.host });
        runtime.url = url;
        return url;
      },
      stop() {
        stopping ??= (async () => {
          const timer = setTimeout(() => {
            logger.warn(
              { timeoutMs: config.shutdownTimeoutMs },
              'shutdown timeout: closing remaining connections',
            );
            app.server.closeAllConnections();
          }, config.shutdownTimeoutMs);
          timer.unref();
          lap();
          try {
            await app.close();
          } finally {
            clearTimeout(timer);
          }
          logger.info({ ms: lap() }, 'http server closed');
          for (const { name, handle } of handles.reverse()) {
            await handle.stop().then(
              () => logger.info({ component: name, ms: lap() }, 'component stopped'),
              (err) => logger.error({ err, component: name, ms: lap() }, 'component failed to stop'),
            );
          }
          await store.close();
          logger.info({ store: store.target, ms: lap() }, 'store closed');
        })();
        return stopping;
      },
    };
    return runtime;
  } catch (err) {
    for (const { handle } of handles.reverse()) await handle.stop().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}

/** Milliseconds since the previous call (or since it was made). */
function stopwatch(): () => number {
  let mark = performance.now();
  return () => {
    const now = performance.now();
    const ms = Math.round(now - mark);
    mark = now;
    return ms;
  };
}
