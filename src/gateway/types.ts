import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FeatureFlags } from '../kernel/config/index.js';
import type { RateLimiters } from '../kernel/resilience/index.js';
import type { Store } from '../kernel/store/index.js';
import type { HealthRegistry, Logger, Metrics } from '../kernel/telemetry/index.js';
import type { GatewayConfig } from './settings.js';

/** The Fastify instance with zod schemas as the single source of validation and OpenAPI. */
export type App = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  import('fastify').FastifyBaseLogger,
  ZodTypeProvider
>;

/** Who is calling, once authenticated. */
export interface Principal {
  /** Stable subject id (user id or service account id); safe to log. */
  subject: string;
  kind: 'user' | 'service';
  roles: string[];
}

/**
 * Authentication and authorization, supplied by the identity integration. Without one the gateway is
 * closed: every non-public /v1 route answers 401.
 */
export interface Authenticator {
  /** Resolves the caller from the request (bearer token), or throws a CareBridgeError (401). */
  authenticate(request: FastifyRequest): Promise<Principal>;
  /** Whether the principal holds `permission` (`resource:action`); errors mean deny (fail closed). */
  authorize(principal: Principal, permission: string, request: FastifyRequest): Promise<boolean>;
}

/** Declared on every /v1 route through `config`; checked when routes are registered. */
export interface RouteAccess {
  /** `resource:action` the caller must hold. */
  permission?: string;
  /**
   * Reachable without a bearer token: sign-in (`POST /v1/auth/token`), health, metrics, the API document and
   * explorer, and webhooks (which verify their own signature). Every other route must name a permission.
   */
  public?: boolean;
  /** Marks a deprecated route: answers carry `Deprecation` and `Sunset`. */
  deprecated?: { sunset: string; link?: string };
  /**
   * Feature flag(s) the route needs on (declared in an area's `<name>Flags`), besides its module's `flag`; while
   * one is off the route answers 503 FEATURE_DISABLED naming it (plugins/feature-gate.ts).
   */
  flag?: string | readonly string[];
}

declare module 'fastify' {
  interface FastifyContextConfig extends RouteAccess {}
  interface FastifyRequest {
    principal?: Principal;
  }
}

/**
 * The process-wide services the runtime builds once and hands to every component (as its RuntimeContext)
 * and to the gateway.
 */
export interface Services {
  config: GatewayConfig;
  logger: Logger;
  metrics: Metrics;
  health: HealthRegistry;
  store: Store;
  flags: FeatureFlags;
  /** Rate limits shared by every instance through Redis when REDIS_URL is set, else per instance in memory. */
  limiters: RateLimiters;
}

/** Everything routes may use: the services, the identity integration's authenticator and the route modules. */
export interface GatewayDeps extends Services {
  authenticator?: Authenticator;
  /** Route modules to mount under /v1 (and webhooks); see gateway/routes/. */
  routes?: RouteModule[];
}

export interface RouteModule {
  name: string;
  /** Registered inside the `/v1` prefix unless `prefix` says otherwise (webhooks use `/webhooks`). */
  prefix?: string;
  /** The area's kill switch: every route of the module answers 503 FEATURE_DISABLED while this flag is off. */
  flag?: string;
  register(app: App, deps: GatewayDeps): Promise<void> | void;
}

export type { FastifyReply, FastifyRequest };
