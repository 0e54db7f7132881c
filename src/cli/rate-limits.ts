import { Redis } from 'ioredis';
import { createRateLimiters, type RateLimiters, RedisWatch } from '../kernel/resilience/index.js';
import type { HealthRegistry, Logger } from '../kernel/telemetry/index.js';
import type { Config } from './config.js';

/**
 * A limit check sits on every /v1 request: a Redis that hangs must not hang requests. Past this the command
 * fails and the limiter decides from this instance's memory.
 */
const REDIS_COMMAND_TIMEOUT_MS = 250;

export interface SharedRateLimits {
  limiters: RateLimiters;
  stop(): Promise<void>;
}

/**
 * The rate limiters of this instance. With REDIS_URL: one ioredis client for all of them (every instance then
 * shares each limit), the optional `redis` readiness check, and the client closed on stop; the gateway starts
 * whether or not Redis answers (the client keeps reconnecting; meanwhile each limit holds per instance).
 * Without REDIS_URL: in-memory limiters, nothing to connect.
 */
export function startRateLimits(opts: {
  config: Pick<Config, 'redisUrl'>;
  logger: Logger;
  health: HealthRegistry;
}): SharedRateLimits {
  const { config, health } = opts;
  if (!config.redisUrl) return { limiters: createRateLimiters(), async stop() {} };
  const logger = opts.logger.child({ component: 'redis' });
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    // Fail at once while disconnected (the limiters fall back) instead of queueing behind a reconnect.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    connectionName: 'carebridge-gateway',
  });
  const watch = RedisWatch.of(redis, logger);
  let answered = false;
  redis.once('ready', () => {
    answered = true;
  });
  redis.once('error', () => {
    answered = true;
  });
  // A refused first connect is warned by the watch, in words; ioredis keeps reconnecting with backoff.
  redis.connect().catch(() => {});
  health.register({
    name: 'redis',
    required: false,
    target: config.redisUrl,
    check: async () => {
      const r = await watch.check();
      return answered || r.status === 'up' ? r : { ...r, detail: 'connecting', pending: true };
    },
  });
  return {
    limiters: createRateLimiters({ redis, logger }),
    async stop() {
      health.unregister('redis');
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
