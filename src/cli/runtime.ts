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
import type { Component, ComponentHandle, RuntimeContext } from './components/component.js';
import { type Config, FLAGS } from './config.js';
import { watchFeatureFlags } from './flag-reload.js';
import { MIGRATIONS } from './migrations.js';
import { startRateLimits } from './rate-limits.js';

export interface Runtime extends RuntimeContext {
  app: App;
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
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    logger,
    outbox,
  });
  const handles: ComponentHandle[] = [];
  try {
    const flagReloader = opts.configSource && watchFeatureFlags({ flags, source: opts.configSource, logger });
    handles.push({
      async stop() {
        flagReloader?.stop();
        await flags.close();
      },
    });
    if (config.migrateOnStart) {
      const { applied } = await migrate(store, MIGRATIONS);
      if (applied.length) logger.info({ applied }, 'migrations applied');
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
    handles.push(rateLimits);
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
    for (const component of opts.components) {
      const handle = await component.start(ctx);
      handles.push(handle);
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
    handles.push(started);

    let stopping: Promise<void> | undefined;
    const runtime: Runtime = {
      ...ctx,
      app,
      reloadFlags: () => (flagReloader ? flagReloader.reload() : false),
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
          try {
            await app.close();
          } finally {
            clearTimeout(timer);
          }
          for (const h of handles.reverse()) {
            await h.stop().catch((err) => logger.error({ err }, 'component failed to stop'));
          }
          await store.close();
        })();
        return stopping;
      },
    };
    return runtime;
  } catch (err) {
    for (const h of handles.reverse()) await h.stop().catch(() => {});
    await store.close().catch(() => {});
    throw err;
  }
}
